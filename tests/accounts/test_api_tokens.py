"""API tokens for integrations (issue 20, item 8): per user, scoped, hashed at rest, expiring,
revocable, shown once, every use on the audit ledger."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from mawa.accounts import services
from mawa.accounts.models import ApiToken
from mawa.accounts.roles import Perm, Role
from mawa.core.models import LedgerEntry
from mawa.reception import services as reception_services
from mawa.reception.services import PersonInput


def _later(days=30):
    return timezone.now() + dt.timedelta(days=days)


@pytest.fixture
def officer(users):
    return users[Role.RECEPTION_OFFICER]


@pytest.fixture
def people(sites, officer, users):
    """One person registered at RHM, one at ZZZ (by the outsider)."""

    def register(actor, site):
        group = reception_services.arrival_group_create(
            actor=actor, site=site, client_key=uuid.uuid4(),
            arrived_at=timezone.now() - dt.timedelta(hours=1), reported_count=1)
        return reception_services.person_register(
            actor=actor, site=site, client_key=uuid.uuid4(), group=group,
            data=PersonInput(values={"given_ar": "محمد", "family_ar": "الحلبي", "sex": "male"},
                             birth="1990"))[0]

    return {"RHM": register(officer, sites["RHM"]),
            "ZZZ": register(users["outsider"], sites["ZZZ"])}


def bearer(secret, method, path, body=None):
    kw = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if body is not None:
        kw.update(data=json.dumps(body), content_type="application/json")
    # a fresh client: no session cookie, no CSRF token
    return getattr(Client(enforce_csrf_checks=True), method)(path, **kw)


def uses(token):
    return [e for e in LedgerEntry.objects.filter(kind="audit.api_token.use")
            if json.loads(e.payload)["object_id"] == str(token.pk)]


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(officer, sites):
    token, secret = services.api_token_create(user=officer, name="ration system",
                                              sites=[sites["RHM"]], expires_at=_later())
    assert secret.startswith("mawa_" + token.prefix + "_") and len(secret) > 40
    token.refresh_from_db()
    assert token.secret_hash != secret and len(token.secret_hash) == 64
    # nowhere in the table, nor on the ledger
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_apitoken")
        rows = cur.fetchall()
        cur.execute("SELECT payload FROM core_ledgerentry")
        ledger = cur.fetchall()
    flat = " ".join(str(v) for row in rows + ledger for v in row)
    assert secret not in flat and secret.split("_", 2)[2] not in flat
    created = LedgerEntry.objects.filter(kind="audit.api_token.create")
    assert created.count() == 1 and token.prefix in created.get().payload


def test_the_pages_show_the_secret_once(client_for, officer, sites):
    client = client_for(officer)
    response = client.post("/accounts/tokens/", {
        "name": "reporting", "scope": "read_only", "sites": [sites["RHM"].pk],
        "expires_at": (timezone.now() + dt.timedelta(days=10)).date().isoformat()})
    assert response.status_code == 200, response.content
    token = ApiToken.objects.get(user=officer)
    body = response.content.decode()
    secret = re.search(rf"mawa_{token.prefix}_[A-Za-z0-9_-]{{20,}}", body).group(0)
    assert "no-store" in response["Cache-Control"]
    assert bearer(secret, "get", "/api/me").status_code == 200
    listing = client.get("/accounts/tokens/").content.decode()
    assert "reporting" in listing and secret not in listing
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_reads_what_its_scope_allows_and_nothing_else(officer, sites, people):
    _token, secret = services.api_token_create(user=officer, name="r", sites=[sites["RHM"]],
                                               expires_at=_later())
    own = bearer(secret, "get", f"/api/reception/persons/{people['RHM'].pk}")
    assert own.status_code == 200, own.content
    other = bearer(secret, "get", f"/api/reception/persons/{people['ZZZ'].pk}")
    missing = bearer(secret, "get", f"/api/reception/persons/{uuid.uuid4()}")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    me = bearer(secret, "get", "/api/me").json()
    assert me["sites"] == ["RHM"] and Perm.PERSON_VIEW in me["permissions"]


def test_a_site_outside_the_token_is_outside_the_request(officer, sites, people):
    _token, secret = services.api_token_create(user=officer, name="r", sites=[sites["NUR"]],
                                               expires_at=_later())
    assert bearer(secret, "get", f"/api/reception/persons/{people['RHM'].pk}"
                  ).status_code == 404


def test_a_permission_outside_the_scope_is_refused(officer, sites, people):
    _token, secret = services.api_token_create(
        user=officer, name="r", read_only=False, permissions=[Perm.SITE_VIEW],
        sites=[sites["RHM"]], expires_at=_later())
    # the role could, the token cannot: the answer of a role without person.view
    assert bearer(secret, "get", f"/api/reception/persons/{people['RHM'].pk}"
                  ).status_code == 404
    assert bearer(secret, "get", "/api/me").json()["permissions"] == [Perm.SITE_VIEW]


def test_a_read_only_token_cannot_write(officer, sites):
    token, secret = services.api_token_create(user=officer, name="r", sites=[sites["RHM"]],
                                              expires_at=_later())
    body = {"client_key": str(uuid.uuid4()), "site": "RHM",
            "arrived_at": "2024-05-01T08:00:00Z", "reported_count": 2}
    refused = bearer(secret, "post", "/api/reception/groups", body)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert refused.json()["message"] == "رمز الواجهة البرمجية هذا للقراءة فقط."  # translated
    assert json.loads(uses(token)[-1].payload)["outcome"] == "denied"


def test_a_writing_token_writes_without_csrf(officer, sites):
    _token, secret = services.api_token_create(user=officer, name="w", read_only=False,
                                               sites=[sites["RHM"]], expires_at=_later())
    body = {"client_key": str(uuid.uuid4()), "site": "RHM",
            "arrived_at": "2024-05-01T08:00:00Z", "reported_count": 2}
    assert bearer(secret, "post", "/api/reception/groups", body).status_code == 201


def test_the_session_still_needs_csrf(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    body = {"client_key": str(uuid.uuid4()), "site": "RHM",
            "arrived_at": "2024-05-01T08:00:00Z", "reported_count": 2}
    response = client.post("/api/reception/groups", data=json.dumps(body),
                           content_type="application/json")
    assert response.status_code == 403


def test_expired_revoked_and_unknown_tokens_answer_401(officer, sites):
    token, secret = services.api_token_create(user=officer, name="r", sites=[sites["RHM"]],
                                              expires_at=_later())
    assert bearer(secret, "get", "/api/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now()
                                                - dt.timedelta(seconds=1))
    assert bearer(secret, "get", "/api/me").status_code == 401
    token2, secret2 = services.api_token_create(user=officer, name="r2", sites=[sites["RHM"]],
                                                expires_at=_later())
    services.api_token_revoke(user=officer, token_id=token2.pk)
    assert bearer(secret2, "get", "/api/me").status_code == 401
    assert bearer(secret2[:-2] + "xx", "get", "/api/me").status_code == 401
    assert bearer("nonsense", "get", "/api/me").status_code == 401
    assert LedgerEntry.objects.filter(kind="audit.api_token.revoke").count() == 1


def test_every_use_is_on_the_ledger_once_per_request(officer, sites):
    token, secret = services.api_token_create(user=officer, name="r", sites=[sites["RHM"]],
                                              expires_at=_later())
    for _ in range(3):
        assert bearer(secret, "get", "/api/reception/groups").status_code == 200
    entries = uses(token)
    assert len(entries) == 3
    payload = json.loads(entries[0].payload)
    assert payload["outcome"] == "ok" and payload["detail"]["path"] == "/api/reception/groups"
    assert entries[0].actor == str(officer.pk)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_never_exceeds_the_role(officer, sites, people, users):
    with pytest.raises(services.MawaError):
        services.api_token_create(user=officer, name="r", permissions=[Perm.COMPARTMENT_VIEW],
                                  sites=[sites["RHM"]], expires_at=_later())
    with pytest.raises(services.MawaError):  # another's site
        services.api_token_create(user=officer, name="r", sites=[sites["ZZZ"]],
                                  expires_at=_later())
    with pytest.raises(services.MawaError):  # too long
        services.api_token_create(user=officer, name="r", sites=[sites["RHM"]],
                                  expires_at=_later(services.API_TOKEN_MAX_DAYS + 1))
    _token, secret = services.api_token_create(user=officer, name="r", sites=[sites["RHM"]],
                                               expires_at=_later())
    path = f"/api/reception/persons/{people['RHM'].pk}"
    assert bearer(secret, "get", path).status_code == 200
    officer.role = Role.AUDITOR  # no person.view any more
    officer.save()
    assert bearer(secret, "get", path).status_code in (403, 404)
    assert Perm.PERSON_VIEW not in bearer(secret, "get", "/api/me").json()["permissions"]
    officer.role = Role.RECEPTION_OFFICER
    officer.save()
    officer.sites.set([sites["NUR"]])  # RHM taken away
    assert bearer(secret, "get", path).status_code == 404
    officer.is_active = False
    officer.save()
    assert bearer(secret, "get", "/api/me").status_code == 401


def test_the_compartment_stays_invisible_to_tokens(users, sites):
    investigator = users[Role.INVESTIGATOR]
    _token, secret = services.api_token_create(user=investigator, name="r", all_sites=True,
                                               expires_at=_later())
    assert Perm.COMPARTMENT_VIEW not in bearer(secret, "get", "/api/me").json()["permissions"]
    unknown = bearer(secret, "get", "/api/accountability/no-such-route")
    hidden = bearer(secret, "get", "/api/accountability/events")
    assert hidden.status_code == unknown.status_code == 404
    def page(response, path):  # the CSRF token of each page is its own, and its path
        text = response.content.decode().replace(path, "PATH")
        return re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"', "", text)

    assert page(hidden, "/api/accountability/events") == page(
        unknown, "/api/accountability/no-such-route")


def test_the_schema_documents_the_bearer_scheme(client):
    schema = client.get("/api/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
