"""Attack 10 (protection.md R16): CSRF on every state-changing route.

Every route of the resolver (pages and API) is sent POST, and the API also PATCH, from a
signed-in browser session without a CSRF token: each must answer 403 and change nothing.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import resolve

from mawa.accounts import access
from mawa.accounts.hidden import hidden_permissions
from mawa.accounts.roles import Role

from .routes import all_routes, missing_value, record_key

pytestmark = pytest.mark.django_db

# Routes that take POST without a token, each for a reason.
CSRF_EXEMPT: dict[str, str] = {
    "api/custody/verify-receipt": "public check of a receipt's QR signature, no sign-in, "
                                  "changes nothing",
}


def _url(route, world):
    values = {}
    for p in route.params:
        key = record_key(route, p)
        record = world.get(key) if key else None
        if record is None:
            values[p] = missing_value(route, p)
        elif isinstance(record, str):
            values[p] = record
        elif p == "site":
            values[p] = record.code
        elif p in ("code", "disc_code"):
            values[p] = record.short_code
        else:
            values[p] = str(record.pk)
    return route.url(values)


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.ADMINISTRATOR,
                                  Role.RECEPTION_OFFICER])
def test_every_state_change_without_a_csrf_token_is_refused(role, users, world):
    """Attack 10 / R16: POST (and API PATCH) without a CSRF token → 403 on every route, for a
    signed-in session; the ledger shows no change."""
    from mawa.core.models import LedgerEntry

    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(users[role])
    records = dict(world)
    records.update(world["compartment"])
    before = LedgerEntry.objects.exclude(stream="audit").count()
    problems = []
    for route in all_routes():
        if route.template in CSRF_EXEMPT:
            continue
        url = _url(route, records)
        attempts = [("post", {}, None)]
        if route.is_api:
            attempts = [("post", json.dumps({}), "application/json"),
                        ("patch", json.dumps({}), "application/json")]
        for method, body, ctype in attempts:
            kwargs = {"content_type": ctype} if ctype else {}
            status = getattr(client, method)(url, data=body, **kwargs).status_code
            if status == 405:
                continue  # the route takes no such method
            perms = hidden_permissions(resolve(url.split("?")[0]).func, method.upper())
            if status == 404 and perms and not any(access.can(users[role], p) for p in perms):
                continue  # the compartment does not exist for this role (access.hidden)
            if status == 422 and route.is_api and role == Role.INVESTIGATOR and \
                    "accountability" in route.template:
                # the body is checked before the compartment's own guard checks the token;
                # with a well-formed body the guard answers 403 (next test)
                continue
            if status != 403:
                problems.append(f"{method.upper()} /{route.template}: {status}")
    assert problems == [], "\n".join(problems)
    assert LedgerEntry.objects.exclude(stream="audit").count() == before


def test_compartment_api_write_without_a_csrf_token_is_refused(users, world):
    """Attack 10 / R16: the compartment's API checks CSRF itself (its router has no ninja
    auth); a well-formed body without a token → 403, no event made."""
    import uuid

    from mawa.accountability.models import Event

    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(users[Role.INVESTIGATOR])
    before = Event.objects.count()
    response = client.post("/api/accountability/events", content_type="application/json",
                           data=json.dumps({"client_key": str(uuid.uuid4()), "title": "x"}))
    assert response.status_code == 403
    assert Event.objects.count() == before


def test_compartment_api_gives_no_validation_errors_to_other_roles(users, world):
    """Attack 2 / R1: a malformed body sent to a compartment endpoint by a registry role gets
    the unknown-URL answer, not a validation error naming the compartment's fields."""
    client = Client(raise_request_exception=False)
    client.force_login(users[Role.RECEPTION_OFFICER])
    response = client.post("/api/accountability/events", content_type="application/json",
                           data="{}")
    unknown = client.post("/api/accountability/nothing-here", content_type="application/json",
                          data="{}")
    assert response.status_code == unknown.status_code == 404
    assert b"client_key" not in response.content and b"date_precision" not in response.content
