"""Issue 20, item 6: every user, role, site and permission change is one ledger entry, written
in the transaction of the change, through the accounts services."""

from __future__ import annotations

import time

import pytest

from mawa.accounts import services
from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.core.errors import Forbidden, MawaError
from mawa.core.ledger import ledger_payload, ledger_verify
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db


def actions_on(user) -> list[tuple[str, dict]]:
    out = []
    for entry in LedgerEntry.objects.filter(stream="audit").order_by("seq"):
        p = ledger_payload(entry)
        if p.get("object_id") == str(user.pk) and p["model"] == "accounts.user":
            out.append((p["action"], p.get("detail") or {}))
    return out


@pytest.fixture
def admin(sites, make_user):
    return make_user("admin_a", Role.ADMINISTRATOR, all_sites=True)


def test_creating_a_user_is_on_the_ledger(admin, sites):
    user, grant = services.user_create(actor=admin, username="clerk", password="a long pass 1",
                                       role=Role.RECEPTION_OFFICER,
                                       site_ids={sites["RHM"].pk})
    assert grant is None and user.role == Role.RECEPTION_OFFICER
    ((action, detail),) = actions_on(user)
    assert action == "user_create"
    assert detail == {"role": Role.RECEPTION_OFFICER, "all_sites": False, "is_active": True,
                      "sites": ["RHM"]}
    entry = LedgerEntry.objects.filter(stream="audit").order_by("-seq").first()
    assert entry.actor == str(admin.pk)


def test_each_change_of_access_is_one_entry(admin, users, sites):
    user = users[Role.RECEPTION_OFFICER]
    services.user_access_change(actor=admin, user=user, role=Role.CAMP_STAFF,
                                site_ids={sites["NUR"].pk}, all_sites=False, is_active=False)
    user.refresh_from_db()
    assert user.role == Role.CAMP_STAFF and not user.is_active
    got = dict(actions_on(user))
    assert got["role_change"] == {"from": Role.RECEPTION_OFFICER, "to": Role.CAMP_STAFF}
    assert got["active_change"] == {"from": True, "to": False}
    assert got["sites_change"] == {"added": [], "removed": ["RHM"]}
    assert len(actions_on(user)) == 3
    services.user_access_change(actor=admin, user=user, role=Role.CAMP_STAFF,
                                site_ids={sites["NUR"].pk}, all_sites=True, is_active=False)
    assert actions_on(user)[-1] == ("all_sites_change", {"from": False, "to": True})
    assert ledger_verify().ok


def test_resetting_two_factor_is_on_the_ledger(admin, users):
    user = users[Role.AUDITOR]
    secret = services.totp_secret_new()
    services.totp_enrol_confirm(user=user, secret=secret,
                                code=services.totp_code_at(secret, time.time()))
    assert services.two_factor_reset(actor=admin, user=user) is None
    assert not services.has_second_factor(user)
    assert "two_factor_reset" in [a for a, _ in actions_on(user)]


def test_a_change_that_fails_leaves_no_entry_and_no_change(admin, users):
    user = users[Role.RECEPTION_OFFICER]
    before = LedgerEntry.objects.count()
    with pytest.raises(MawaError):
        services.user_access_change(actor=admin, user=user, role="emperor", site_ids=set(),
                                    all_sites=True, is_active=True)
    user.refresh_from_db()
    assert user.role == Role.RECEPTION_OFFICER and LedgerEntry.objects.count() == before


def test_only_administrators_change_accounts(users):
    with pytest.raises(Forbidden):
        services.user_access_change(actor=users[Role.AUDITOR], user=users[Role.AUDITOR],
                                    role=Role.ADMINISTRATOR, site_ids=set(), all_sites=True,
                                    is_active=True)
    assert User.objects.get(pk=users[Role.AUDITOR].pk).role == Role.AUDITOR


def test_user_pages_write_the_ledger(admin, users, sites):
    from django.test import Client

    client = Client()
    client.force_login(admin)
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    target = users[Role.CAMP_STAFF]
    response = client.post(f"/accounts/users/{target.pk}/", {
        "role": Role.CAMP_MANAGER, "sites": [str(sites["NUR"].pk)], "is_active": "on"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.CAMP_MANAGER
    assert {"role_change", "sites_change"} <= {a for a, _ in actions_on(target)}
    assert client.get("/accounts/users/").status_code == 200
    assert client.get(f"/accounts/users/{target.pk}/").status_code == 200
