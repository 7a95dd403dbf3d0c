"""Issue 20, item 6: one person's failures never lock out a whole post sharing one address,
and the client address comes from a proxy header only when a trusted proxy sent it."""

from __future__ import annotations

import pytest
from django.test import Client

from mawa.accounts import services
from mawa.core.client_address import client_address

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
POST_ADDRESS = "10.0.0.7"


def attempt(client, username, password, **meta):
    meta.setdefault("REMOTE_ADDR", POST_ADDRESS)
    return client.post("/accounts/login/", {"username": username, "password": password},
                       **meta)


def test_twenty_failures_by_one_account_do_not_lock_out_the_post(users):
    """One person who often mistypes: four failures, then the right password, five times over
    (20 failures from the post's one address in a quarter of an hour)."""
    for _ in range(5):
        client = Client()
        for _ in range(4):
            assert attempt(client, "auditor", "wrong-password-1").status_code == 200
        assert attempt(client, "auditor", PASSWORD).status_code == 302
    # a colleague at the same address still signs in
    colleague = attempt(Client(), "camp_staff", PASSWORD)
    assert colleague.status_code == 302 and "/accounts/login/enrol/" in colleague["Location"]


def test_a_locked_account_does_not_lock_the_post(users):
    client = Client()
    for _ in range(20):
        attempt(client, "auditor", "wrong-password-1")
    assert attempt(client, "auditor", PASSWORD).status_code == 429
    assert attempt(Client(), "camp_staff", PASSWORD).status_code == 302


def test_many_failing_people_at_one_address_do_not_lock_out_another(users):
    for i in range(25):
        attempt(Client(), f"name-{i}", "wrong-password-1")
    assert attempt(Client(), "camp_staff", PASSWORD).status_code == 302


def test_an_account_is_locked_from_every_address(users):
    for i in range(services.ACCOUNT_MAX_FAILURES):
        attempt(Client(), "auditor", "wrong-password-1", REMOTE_ADDR=f"10.0.1.{i}")
    assert attempt(Client(), "auditor", PASSWORD, REMOTE_ADDR="10.0.2.1").status_code == 429


def test_the_pair_is_throttled_before_the_account(users):
    for _ in range(services.PAIR_MAX_FAILURES):
        attempt(Client(), "auditor", "wrong-password-1")
    assert attempt(Client(), "auditor", PASSWORD).status_code == 429
    assert attempt(Client(), "auditor", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_the_proxy_header_is_read_only_from_a_trusted_proxy(settings):
    settings.MAWA_TRUSTED_PROXIES = ["127.0.0.1", "10.1.0.0/16"]
    settings.MAWA_CLIENT_IP_HEADER = "X-Forwarded-For"
    forged = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_address(forged) == "203.0.113.9"
    proxied = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_address(proxied) == "198.51.100.1"
    # the client's own (forgeable) entries on the left are not believed
    chained = {"REMOTE_ADDR": "127.0.0.1",
               "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.1, 10.1.2.3"}
    assert client_address(chained) == "198.51.100.1"
    assert client_address({"REMOTE_ADDR": "127.0.0.1",
                           "HTTP_X_FORWARDED_FOR": "junk"}) == "127.0.0.1"
    settings.MAWA_CLIENT_IP_HEADER = "X-Real-IP"
    assert client_address({"REMOTE_ADDR": "10.1.0.5", "HTTP_X_REAL_IP": "198.51.100.2",
                           "HTTP_X_FORWARDED_FOR": "9.9.9.9"}) == "198.51.100.2"
    settings.MAWA_TRUSTED_PROXIES = []
    assert client_address(proxied) == "127.0.0.1"


def test_behind_the_proxy_the_throttle_tells_clients_apart(users, settings):
    settings.MAWA_TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(services.PAIR_MAX_FAILURES):
        attempt(Client(), "auditor", "wrong-password-1", REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert attempt(Client(), "auditor", PASSWORD, REMOTE_ADDR="127.0.0.1",
                   HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    # the same account from another client behind the same proxy is not throttled
    assert attempt(Client(), "auditor", PASSWORD, REMOTE_ADDR="127.0.0.1",
                   HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_a_forged_header_from_outside_does_not_escape_the_throttle(users, settings):
    settings.MAWA_TRUSTED_PROXIES = ["127.0.0.1"]
    for i in range(services.PAIR_MAX_FAILURES):
        attempt(Client(), "auditor", "wrong-password-1", REMOTE_ADDR="203.0.113.9",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert attempt(Client(), "auditor", PASSWORD, REMOTE_ADDR="203.0.113.9",
                   HTTP_X_FORWARDED_FOR="198.51.100.200").status_code == 429
