"""Brute force (R13, attack test 7) and sessions (R14, attack tests 6 and 9)."""

import time

import pytest
from django.test import Client

from mawa.accounts import services
from mawa.accounts.models import UserSession
from mawa.accounts.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def attempt(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR="10.0.0.7")


def test_sixth_wrong_try_is_throttled_even_with_the_right_password(users):
    client = Client()
    for _ in range(services.PAIR_MAX_FAILURES):
        assert attempt(client, "auditor", "wrong-password-1").status_code == 200
    locked = attempt(client, "auditor", PASSWORD)
    assert locked.status_code == 429
    assert "enrol" not in locked.get("Location", "")


def test_lockout_looks_the_same_for_unknown_accounts(users):
    a, b = Client(), Client()
    for _ in range(services.PAIR_MAX_FAILURES):
        attempt(a, "auditor", "wrong-password-1")
        attempt(b, "no-such-user", "wrong-password-1")
    ra, rb = attempt(a, "auditor", "x-password-1"), attempt(b, "no-such-user", "x-password-1")
    assert ra.status_code == rb.status_code == 429
    assert ra.context["form"].non_field_errors() == rb.context["form"].non_field_errors()


def test_lockout_unlocks_after_its_time(users):
    import time_machine as tm

    client = Client()
    for _ in range(services.PAIR_MAX_FAILURES):
        attempt(client, "auditor", "wrong-password-1")
    assert attempt(client, "auditor", PASSWORD).status_code == 429
    with tm.travel(time.time() + 16 * 60, tick=False):
        assert attempt(client, "auditor", PASSWORD).status_code == 302


def test_sessions_are_listed_and_ended_everywhere(users, signed_in_client):
    client = signed_in_client(users[Role.AUDITOR])
    client.get("/")
    assert UserSession.objects.filter(user=users[Role.AUDITOR]).count() == 1
    page = client.get("/accounts/sessions/")
    assert page.status_code == 200
    other = Client()
    other.force_login(users[Role.AUDITOR])
    assert other.get("/ledger/").status_code == 200
    client.post("/accounts/sessions/")
    assert other.get("/ledger/").status_code == 302  # ended
    assert client.get("/ledger/").status_code == 302


@pytest.mark.parametrize("change", ["role", "disable", "password", "sites"])
def test_changes_to_the_account_end_live_sessions(users, sites, change):
    user = users[Role.AUDITOR]
    client = Client()
    client.force_login(user)
    assert client.get("/ledger/").status_code == 200
    if change == "role":
        user.role = Role.ADMINISTRATOR
        user.save(update_fields=["role"])
    elif change == "disable":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif change == "password":
        user.set_password("another long passphrase")
        user.save(update_fields=["password"])
    else:
        user.all_sites = False
        user.save(update_fields=["all_sites"])
        user.sites.set([sites["ZZZ"]])
    assert client.get("/ledger/").status_code == 302


def test_absolute_timeout_ends_an_active_session(users, signed_in_client, settings):
    import time_machine as tm

    settings.MAWA_ABSOLUTE_SESSION_SECONDS = 20 * 60  # shorter than the 30 min idle timeout
    client = signed_in_client(users[Role.AUDITOR])
    start = time.time()
    for minutes in (5, 10, 15):  # active all along: the idle timeout never fires
        with tm.travel(start + minutes * 60, tick=False):
            assert client.get("/ledger/").status_code == 200
    with tm.travel(start + 21 * 60, tick=False):
        assert client.get("/ledger/").status_code == 302
