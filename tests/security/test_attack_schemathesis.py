"""Attack test 10 (protection.md): property-based fuzz of the JSON API with schemathesis.

Every operation of the OpenAPI schema the application serves at /api/openapi.json is called
with cases schemathesis generates from that schema — valid ones and deliberately invalid ones
(wrong types, missing fields, bodies that are not objects), with Arabic, right-to-left marks,
NUL bytes, SQL and huge numbers mixed in — by a user signed in through the real two-step
sign-in, the session cookie and the CSRF header on every call. The calls go through Django's
own WSGI handler in-process: the whole middleware stack and the CSRF check, no network.

Every answer must be a status the schema documents, with a body and content type matching
it, and never a server error; invalid input must be refused. Afterwards `mawa verify` and the
custody verification still hold.

The compartment's endpoints are left out of the served schema for everyone (its description
would reveal it). For an investigator they are fuzzed from ninja's own description of them;
to a reception officer the same calls must answer exactly what an unknown URL answers.

Generation is bounded (MAX_EXAMPLES) and derandomized: the same draws on every run, only the
ids of the records made for the run differ. Bugs the fuzz found are kept as plain regression
tests at the end, so that they stay covered whichever role the fuzz runs as.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import traceback
import uuid

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role

pytestmark = pytest.mark.django_db

# examples per operation and per kind of case: valid and invalid, with generated path
# parameters and with path parameters naming real records of the user's sites
MAX_EXAMPLES = 2

HOSTILE_STRINGS = [
    "محمد عبد الله",
    "\u202eكلاشنكوف\u202c",  # right-to-left override
    "Ali\u200f\u061c\u200e",  # RTL, Arabic letter and LTR marks
    "١٩٩٠",  # Arabic-Indic digits
    "nul\x00byte",
    "\x00",
    "' OR 1=1 --",
    "\"; DROP TABLE core_ledgerentry; --",
    "<script>window.__xss=1</script>",
    "../../etc/passwd",
    "Иван\u202eПетров",
    "A" * 5000,
    "NaN",
]
HUGE_NUMBERS = [2 ** 31, -(2 ** 31) - 1, 2 ** 63, -(2 ** 63) - 1, 2 ** 64, 10 ** 40, -1, 0]
SITE_CODES = ["RHM", "NUR", "ZZZ", "HQ", "nur", " RHM "]

COMPARTMENT_PREFIX = "/api/accountability/"
UNKNOWN_PREFIX = "/api/no-such-endpoint/"


def _config(records: dict):
    """schemathesis' configuration: every mode, hostile strings and huge numbers mixed into
    every string and integer, site codes and references to real records into the fields that
    name them (so that valid cases get past the lookups to the services)."""
    import schemathesis

    refs = sorted({value for key, record in records.items() if key != "release"
                   for value in (str(record.pk), getattr(record, "short_code", ""))
                   if value})
    named = {f"{where}.{name}": {"dictionary": "records", "probability": 0.5}
             for where in ("body", "query")
             for name in ("person", "group", "shelter", "block", "item", "code", "tag",
                          "before", "after", "survivor")}
    return schemathesis.Config.from_dict({
        "dictionaries": {
            "hostile": {"values": HOSTILE_STRINGS},
            "huge": {"values": HUGE_NUMBERS},
            "sites": {"values": SITE_CODES},
            "records": {"values": refs},
        },
        "generation": {
            "mode": "all",
            # the session cookie is the real one, sent with every call (never generated)
            "with-security-parameters": False,
            "dictionaries": {
                "string": {"dictionary": "hostile", "probability": 0.25},
                "integer": {"dictionary": "huge", "probability": 0.25},
            },
        },
        "parameters": {
            "body.site": {"dictionary": "sites", "probability": 0.6},
            "query.site": {"dictionary": "sites", "probability": 0.6},
            **named,
        },
    })


# --- the application, in-process ----------------------------------------------------------

class InProcessServer:
    """Django's WSGI handler, as a server runs it. Like Django's test client, it keeps the
    handler from closing the test's database connection at the start and end of a request."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.server_errors: list[str] = []  # tracebacks (the handler answers a plain 500)

    def __call__(self, environ, start_response):
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections
        from werkzeug.wsgi import ClosingIterator

        def reconnect():
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
        except BaseException:
            reconnect()
            raise
        return ClosingIterator(response, [reconnect])

    def client(self, cookies: dict):
        from werkzeug.test import Client

        client = Client(self)
        for name, value in cookies.items():
            client.set_cookie(name, value, domain="localhost")
        return client


@pytest.fixture
def wsgi_app():
    from django.core.signals import got_request_exception

    app = InProcessServer()

    def record(sender, request=None, **kwargs):
        app.server_errors.append(traceback.format_exc())

    got_request_exception.connect(record)
    yield app
    got_request_exception.disconnect(record)


def _session(client) -> tuple[dict, dict]:
    """The session and CSRF cookies of a signed-in test client, and the CSRF header."""
    from django.conf import settings

    assert client.get("/").status_code == 200  # a page with forms sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    return ({settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
             settings.CSRF_COOKIE_NAME: token}, {"X-CSRFToken": token})


def _served_schema(app: InProcessServer, cookies: dict) -> dict:
    response = app.client(cookies).get("/api/openapi.json")
    assert response.status_code == 200, "\n".join(app.server_errors)
    return json.loads(response.get_data())


def _compartment_paths() -> tuple[dict, dict]:
    """The compartment's operations as ninja describes them (they are kept out of the served
    schema): the same routers, their ``include_in_schema`` set for the time of the call."""
    from mawa.api import api

    hidden = [op for bound in api._get_bound_routers() if bound.prefix == "/accountability"
              for view in bound.path_operations.values() for op in view.operations
              if not op.include_in_schema]
    assert hidden, "the compartment's router is not mounted"
    for op in hidden:
        op.include_in_schema = True
    try:
        full = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/")))
    finally:
        for op in hidden:
            op.include_in_schema = False
    paths = {p: ops for p, ops in full["paths"].items() if p.startswith(COMPARTMENT_PREFIX)}
    return paths, full["components"]["schemas"]


def _schema_for(role, app: InProcessServer, cookies: dict, records: dict):
    """The served schema (which must not name the compartment), with the compartment's
    operations added: for an investigator as documented, NotFound being the unknown-URL page;
    for anyone else answering whatever an unknown URL answers (checked by the twin request)."""
    import schemathesis

    schema = _served_schema(app, cookies)
    assert schema["paths"] and not [p for p in schema["paths"] if "accountability" in p]
    paths, components = _compartment_paths()
    for operations in paths.values():
        for operation in operations.values():
            if role == Role.INVESTIGATOR:
                operation["responses"]["404"] = {"description": "Not found: an unknown URL",
                                                 "content": {"text/html": {}}}
            else:
                operation["responses"] = {"404": {"description": "An unknown URL",
                                                  "content": {"text/html": {}}}}
    schema["paths"].update(paths)
    for name, value in components.items():
        schema["components"]["schemas"].setdefault(name, value)
    return schemathesis.openapi.from_dict(schema, config=_config(records))


# --- records the fuzz can reach ------------------------------------------------------------

@pytest.fixture
def records(sites, users, settings, tmp_path):
    """One record of every kind an API path names, at RHM and NUR (the users' sites): with
    these in the path, generated bodies reach the services instead of stopping at 404."""
    from mawa.accountability import services as acc
    from mawa.camp import services as camp
    from mawa.core.services import short_code_next
    from mawa.custody import services as custody
    from mawa.custody.models import Kind, MaterielModel
    from mawa.custody.services import ItemInput
    from mawa.matching.models import MatchPair
    from mawa.reception import services as reception
    from mawa.reception.models import Person
    from mawa.reception.services import PersonInput
    from mawa.reports import services as reports

    settings.MAWA_EVIDENCE_DIR = tmp_path / "evidence"
    rhm, nur = sites["RHM"], sites["NUR"]
    officer, keeper = users[Role.RECEPTION_OFFICER], users[Role.CUSTODY_OFFICER]
    manager, investigator = users[Role.CAMP_MANAGER], users[Role.INVESTIGATOR]
    now = timezone.now()
    r: dict = {}
    r["group"] = reception.arrival_group_create(
        actor=officer, site=rhm, client_key=uuid.uuid4(), arrived_at=now - dt.timedelta(hours=3),
        reported_count=5, formation="9th Brigade")
    people = [reception.person_register(
        actor=officer, site=rhm, client_key=uuid.uuid4(), group=r["group"],
        data=PersonInput(values={"given_ar": "فارس", "given_lat": given, "family_lat": family,
                                 "sex": "male"}, birth="1985"))[0]
        for given, family in (("Faris", "Qasim"), ("Fares", "Kassem"), ("Nabil", "Tawil"))]
    r["person"] = people[0]
    r["pair"] = MatchPair.objects.filter(person_a__site=rhm).first() or MatchPair.objects.create(
        kind="duplicate", person_a=min(people[:2], key=lambda p: p.pk),
        person_b=max(people[:2], key=lambda p: p.pk), probability=0.93)

    r["store"] = custody.store_create(actor=keeper, site=rhm, name="Armoury")
    r["receipt"] = custody.receipt_open(actor=keeper, site=rhm, client_key=uuid.uuid4(),
                                        person=people[0], witness="Sgt. A")
    r["item"] = custody.item_surrender(
        actor=keeper, receipt=r["receipt"], client_key=uuid.uuid4(),
        data=ItemInput(kind=Kind.WEAPON, catalogue=MaterielModel.objects.get(name="AKM"),
                       serial_number="RH-000123", cleared_by="Cpl. A",
                       verified_by="Lt. A")).item
    r["hold"] = custody.legal_hold_set(actor=investigator, item=r["item"], reason="evidence")
    r["check"] = custody.stock_check_start(actor=keeper, store=r["store"], scope="full",
                                           client_key=uuid.uuid4())

    zone = camp.zone_create(actor=manager, site=nur, name="Z")
    r["block"] = camp.block_create(actor=manager, zone=zone, name="B1")
    r["shelter"] = camp.shelter_create(actor=manager, block=r["block"], name="T1", capacity=4)
    interned = [Person.objects.create(  # straight in the register: housing is what is fuzzed
        site=rhm, short_code=short_code_next(site=rhm), client_key=uuid.uuid4(),
        content_hash="x", current_site=nur, arrived_at=now - dt.timedelta(days=3),
        given_lat=f"Internee{i}", status="interned", status_changed_at=now,
        registered_by=officer) for i in range(3)]
    for p in interned:
        camp.assignment_check_in(actor=manager, person=p, shelter=r["shelter"],
                                 client_key=uuid.uuid4())
    r["interned"] = interned[1]
    r["rollcall"] = camp.rollcall_start(actor=manager, block=r["block"],
                                        client_key=uuid.uuid4())
    r["movement"] = camp.movement_out(
        actor=manager, person=interned[0], kind="hospital", client_key=uuid.uuid4(), site=nur,
        due_back_at=now + dt.timedelta(days=2), destination="Hospital")
    r["camp_item"] = camp.item_type_create(actor=manager, site=nur, client_key=uuid.uuid4(),
                                           data={"name_ar": "خبز", "name_en": "Bread",
                                                 "kind": "meal", "max_per_day": 1})
    r["incident"] = camp.incident_report(
        actor=manager, site=nur, client_key=uuid.uuid4(), kind="discipline", severity="low",
        occurred_at=now - dt.timedelta(hours=1), summary="Scuffle at the tap")
    r["release"] = reports.stats_release(actor=users[Role.ADMINISTRATOR],
                                         day=timezone.localdate() - dt.timedelta(days=1))

    r["event"] = acc.event_create(actor=investigator, site=rhm, client_key=uuid.uuid4(),
                                  title="Allegation", description="secret", place="X",
                                  date_start=dt.date(2024, 1, 2), date_end=dt.date(2024, 1, 3),
                                  date_precision="day")
    r["evidence"] = acc.evidence_add(actor=investigator, event=r["event"],
                                     client_key=uuid.uuid4(), name="statement.txt",
                                     data=b"I saw it.\n", description="statement",
                                     captured_at=now, original_location="safe")
    return r


# path parameter → the record it names; ``code`` names the record of the segment before it
PARAM_RECORDS = {"group_id": "group", "person_id": "person", "hold_id": "hold",
                 "block_id": "block", "shelter_id": "shelter", "roll_call_id": "rollcall",
                 "incident_id": "incident", "pair_id": "pair", "item_id": "camp_item",
                 "event_id": "event", "evidence_id": "evidence", "movement_id": "movement"}
CODE_RECORDS = {"items": "item", "receipts": "receipt", "stores": "store", "checks": "check"}


def _real_path_parameters(path: str, records: dict) -> dict | None:
    """Path parameters naming real records of the users' sites (None: a path names none)."""
    values = {}
    for name in re.findall(r"{(\w+)}", path):
        if name == "site":
            values[name] = "NUR"
        elif name == "day":
            values[name] = records["release"].day.isoformat()
        elif name == "code":
            segment = path.split("{code}")[0].rstrip("/").rsplit("/", 1)[-1]
            if segment not in CODE_RECORDS:
                return None  # a handover: none is made here
            values[name] = records[CODE_RECORDS[segment]].short_code
        elif name in PARAM_RECORDS:
            values[name] = str(records[PARAM_RECORDS[name]].pk)
        else:
            return None  # a transfer of bundles (/api/sync): no record of a site
    return values


# --- the fuzz ------------------------------------------------------------------------------

def _strip(html: str) -> str:
    """A page without its CSRF tokens (masked afresh on every response) and with the
    compartment's or the unknown URL's prefix in its echoed path made the same."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return html.replace(COMPARTMENT_PREFIX, "/PATH/").replace(UNKNOWN_PREFIX, "/PATH/")


def _answers_like_an_unknown_url(app: InProcessServer, cookies: dict, headers: dict, case,
                                 response) -> list[str]:
    """The same request sent to a URL that does not exist must get the same answer: status,
    content type and page (its echoed path aside)."""
    from schemathesis.transport.wsgi import WSGI_TRANSPORT

    sent = WSGI_TRANSPORT.serialize_case(case, headers=headers)  # exactly as it was sent
    path = sent["path"]
    sent["path"] = UNKNOWN_PREFIX + path.removeprefix(COMPARTMENT_PREFIX)
    twin = app.client(cookies).open(**sent)
    got = (response.status_code, response.headers.get("content-type", [None])[0],
           _strip(response.content.decode()))
    expected = (twin.status_code, twin.headers.get("Content-Type"),
                _strip(twin.get_data(as_text=True)))
    if got == expected:
        return []
    diff = "\n".join(difflib.unified_diff(expected[2].splitlines(), got[2].splitlines(),
                                          lineterm="", n=0))
    return [f"{case.method} {path} answers {got[:2]}, an unknown URL {expected[:2]}\n"
            f"{diff[:2000]}"]


def _fuzz(schema, app: InProcessServer, *, cookies: dict, headers: dict, records: dict,
          compartment: bool) -> tuple[dict, list[str]]:
    """Every operation, cases of every kind; returns the statuses seen per operation and a
    description of every failed check (with a curl command and the server's traceback)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    documented = [not_a_server_error, status_code_conformance, content_type_conformance,
                  response_schema_conformance, negative_data_rejection]
    statuses: dict[str, dict[int, int]] = {}
    failures: list[str] = []

    def fuzz_one(operation):
        hidden = operation.path.startswith(COMPARTMENT_PREFIX) and not compartment
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        real = _real_path_parameters(operation.path, records)
        if real:
            strategies += [operation.as_strategy(mode, path_parameters=real)
                           for mode in GenerationMode]
        seen = statuses.setdefault(operation.label, {})

        @settings(max_examples=MAX_EXAMPLES * len(strategies), derandomize=True,
                  database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def run(case):
            app.server_errors.clear()
            response = case.call(app=app, cookies=cookies, headers=headers)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            problems = []
            try:
                case.validate_response(response, checks=[not_a_server_error] if hidden
                                       else documented)
            except FailureGroup as group:  # every failed check, with a curl command
                problems.append(str(group))
            if hidden:
                problems += _answers_like_an_unknown_url(app, cookies, headers, case, response)
            if problems:
                failures.append("\n".join([operation.label, *problems, *app.server_errors]))

        run()

    for result in schema.get_all_operations():
        fuzz_one(result.ok())
    return statuses, failures


def _verify_database():
    from django.core.management import call_command

    from mawa.custody.verify import custody_verify

    call_command("verify")  # `mawa verify`: raises CommandError unless every chain holds
    report = custody_verify(jobs=1)
    assert report.ok, (report.chain_failures, report.problems)


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.RECEPTION_OFFICER])
def test_every_operation_answers_as_documented_under_fuzz(role, signed_in_client, users,
                                                          records, wsgi_app):
    """Attack 10: generated valid and invalid calls to every operation never get a server
    error or an undocumented answer; the compartment answers a reception officer like an
    unknown URL; the ledger and the custody projection still verify."""
    cookies, headers = _session(signed_in_client(users[role]))
    schema = _schema_for(role, wsgi_app, cookies, records)
    statuses, failures = _fuzz(schema, wsgi_app, cookies=cookies, headers=headers,
                               records=records, compartment=role == Role.INVESTIGATOR)
    assert not failures, f"{len(failures)} failed calls:\n\n" + "\n\n".join(failures[:20])
    # the fuzz reached every operation, and got past the checks into the services
    assert len(statuses) == len(list(schema.get_all_operations())) > 60
    answered = {op for op, seen in statuses.items() if any(200 <= s < 300 for s in seen)}
    assert {"GET /api/me", "POST /api/reception/persons/search"} <= answered
    if role == Role.INVESTIGATOR:
        assert {"GET /api/accountability/events/{event_id}",
                "GET /api/accountability/evidence/{evidence_id}"} <= answered
    else:
        assert not [op for op in answered if "accountability" in op]
    _verify_database()


# --- what the fuzz found -------------------------------------------------------------------

@pytest.fixture
def api_as(users):
    """A JSON caller signed in as a role (its own session)."""
    from django.test import Client

    def make(role):
        client = Client()
        client.force_login(users[role])

        def call(method, path, body=None, raw=None):
            data = raw if raw is not None else (None if body is None else json.dumps(body))
            kwargs = {"data": data, "content_type": "application/json"} if data is not None \
                else {}
            return getattr(client, method)(path, **kwargs)

        return call

    return make


def test_a_report_day_at_the_end_of_the_calendar_is_refused(api_as):
    """Was a server error (OverflowError): the report reads the 30 days before its day."""
    from mawa.reports.selectors import FIRST_DAY, LAST_DAY

    call = api_as(Role.ADMINISTRATOR)
    for day in ("0001-01-01", "0001-01-30", "9999-12-31"):
        r = call("get", f"/api/reports/sitrep?date={day}")
        assert r.status_code == 400, (day, r.content[:300])
        assert r.json()["code"] == "invalid" and "date" in r.json()["fields"]
    for day in (FIRST_DAY, LAST_DAY):
        r = call("get", f"/api/reports/sitrep?date={day.isoformat()}")
        assert r.status_code == 200, (day, r.content[:300])
        assert r.json()["day"] == day.isoformat()


def test_a_zone_order_out_of_range_is_refused(api_as, records):
    """Was a server error (the database's CHECK on a small positive integer)."""
    from mawa.camp.models import Zone

    call = api_as(Role.CAMP_MANAGER)
    for order in (-121645100408832001, -1, 1001, 2 ** 40):
        r = call("post", "/api/camp/zones", {"site": "NUR", "name": f"Z{order}", "order": order})
        assert r.status_code == 400, (order, r.content[:300])
        assert "order" in r.json()["fields"]
    assert not Zone.objects.filter(name__startswith="Z-").exists()
    assert call("post", "/api/camp/zones", {"site": "NUR", "name": "Z2", "order": 3}
                ).status_code == 200


@pytest.mark.parametrize("raw", ["-1775", "[]", "[{}]", "null", "\"counted\"", "true"])
def test_a_body_that_is_not_a_json_object_is_refused(api_as, records, raw):
    """Was carried out as an empty request: a body whose fields all have defaults (closing a
    stock check, a search) was read from any JSON value, so ``-1775`` closed the check."""
    check = records["check"]
    r = api_as(Role.CUSTODY_OFFICER)("post", f"/api/custody/checks/{check.short_code}/close",
                                     raw=raw)
    assert r.status_code == 400, r.content[:300]
    check.refresh_from_db()
    assert check.status != "closed"
    assert api_as(Role.RECEPTION_OFFICER)("post", "/api/reception/persons/search",
                                          raw=raw).status_code == 400


@pytest.mark.parametrize("raw", ["GIF89a", "[]", "{"])
def test_an_unreadable_body_to_the_compartment_answers_like_an_unknown_url(api_as, raw):
    """Was ninja's 400 "Cannot parse request body" to everyone: the body is read before the
    compartment's guard, and the answer told a reception officer that the endpoint exists."""
    call = api_as(Role.RECEPTION_OFFICER)
    got = call("post", "/api/accountability/events", raw=raw)
    unknown = call("post", "/api/no-such-endpoint/events", raw=raw)
    assert (got.status_code, got["Content-Type"]) == (unknown.status_code,
                                                      unknown["Content-Type"]) == (
        404, "text/html; charset=utf-8")
    assert _strip(got.content.decode()) == _strip(unknown.content.decode())
    r = api_as(Role.INVESTIGATOR)("post", "/api/accountability/events", raw=raw)
    assert r.status_code == 400 and "detail" in r.json()
