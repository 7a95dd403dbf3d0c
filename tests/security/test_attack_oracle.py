"""Attack test 3 (protection.md R1, R3): the search oracle.

No answer, count or amount of work may tell a registry role that an allegation exists:

* forbidden and missing answer alike: for the id of a compartment record, of another site's
  record and of nothing, every route that takes an id answers every role with the very same
  status, type and bytes (once the address it echoes and its form tokens are set aside);
* counts: the totals of the dashboards and list pages are the same with or without the flagged
  person's compartment data (every page is compared byte for byte in
  ``test_attack_leakage.py``; here the figures themselves);
* timing, proven without a clock (the house rule: no wall-clock assertions): the work a
  request does is its SQL. A search or a page that finds the flagged person runs the same
  number of statements, of the same shapes (literals set aside), as for his twin; a forbidden
  id runs the same statements as a missing one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import cache

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mawa.accounts.roles import Role

from .routes import COMPARTMENT_KEYS, NON_RECORD_PARAMS, missing_value, record_key, swept_routes
from .test_attack_leakage import (  # noqa: F401  (twins is a fixture)
    NON_INVESTIGATORS,
    attach_compartment,
    attach_hold,
    client_as,
    fetch,
    hold_may_show,
    may_custody,
    person_requests,
    twins,
    world,
)

pytestmark = pytest.mark.django_db


# --- SQL shapes -------------------------------------------------------------------------

_LITERALS = [
    (re.compile(r'"s\d+_x\d+"'), "SAVEPOINT"),  # Django's savepoint names count up
    (re.compile(r"'(?:[^']|'')*'"), "?"),  # strings, dates, uuids, JSON payloads
    (re.compile(r"\bX'[0-9A-Fa-f]*'"), "?"),  # SQLite blobs
    (re.compile(r"(?<![\w\"])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b"), "?"),  # numbers
]


def shape(sql: str) -> str:
    """A statement with its literals set aside (the ids, codes and names differ; the work
    must not)."""
    for pattern, repl in _LITERALS:
        sql = pattern.sub(repl, sql)
    return sql


def work(client, call) -> tuple[object, list[str]]:
    """The answer of ``call(client)`` and the shapes of the statements it ran."""
    with CaptureQueriesContext(connection) as captured:
        answer = call(client)
    return answer, [shape(q["sql"]) for q in captured.captured_queries]


def _same_work(a: list[str], b: list[str]) -> str:
    if a == b:
        return ""
    if len(a) != len(b):
        extra = [s for s in b if s not in a] or [s for s in a if s not in b]
        return f"{len(a)} vs {len(b)} statements; e.g. {extra[:1]}"
    first = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    return f"statement {first} differs: {a[first][:300]!r} / {b[first][:300]!r}"


# --- forbidden and missing --------------------------------------------------------------

@cache
def _api_operations() -> dict:
    from mawa.api import api

    schema = api.get_openapi_schema()
    return {"paths": schema["paths"], "components": schema["components"]["schemas"]}


def _example(schema: dict, components: dict):
    """A value of the right JSON type, so that a body passes validation and the request
    reaches the record's look-up."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components)
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], components)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _example(props[k], components) for k in schema.get("required", [])}
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=0x01900000_0000_7000_8000_000000000000))
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": []}.get(kind)


def _methods(route) -> list[tuple[str, object]]:
    """(method, JSON body or None) to call a route with: GET for pages; the operations of
    the schema for the API (GET and POST with an empty body where the schema is silent, as
    for the compartment's own endpoints)."""
    if not route.is_api:
        return [("get", None)]
    ops = _api_operations()
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.template)
    found = ops["paths"].get(path)
    if found is None:
        return [("get", None), ("post", {})]
    out = []
    for method, op in found.items():
        content = op.get("requestBody", {}).get("content", {})
        body = None
        if "application/json" in content:
            body = _example(content["application/json"]["schema"], ops["components"])
        out.append((method, body if body is not None else ({} if method != "get" else None)))
    return out


def _id_of(records: dict, route, param: str) -> str:
    if (route.template, param) in NON_RECORD_PARAMS:
        return missing_value(route, param)
    record = records[record_key(route, param)]
    if isinstance(record, str):
        return record
    if param == "site":
        return record.code
    if param in ("code", "disc_code"):
        return record.short_code
    return str(record.pk)


def _answer(client, url: str, method: str, body) -> tuple[int, str, str]:
    if method == "get":
        r = client.get(url)
    else:
        r = getattr(client, method)(url, data=json.dumps(body or {}),
                                    content_type="application/json")
    text = (b"".join(r.streaming_content) if getattr(r, "streaming", False) else r.content)
    text = text.decode("utf-8", "replace").replace(url, "PATH")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return r.status_code, r.get("Content-Type", ""), text


@pytest.fixture
def steady(settings):
    """Work done now and then by whichever request comes, not by what it asks, set aside:
    the clock is stopped (a session's "last seen" is written once a minute) and no ledger
    checkpoint is signed (one every ``MAWA_CHECKPOINT_EVERY`` entries of a stream)."""
    settings.MAWA_CHECKPOINT_EVERY = 0
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        yield


def test_forbidden_and_missing_ids_answer_alike_with_the_same_work(world, local, steady):
    """Attack 3: for the id of a compartment record, of another site's record and of
    nothing, every route with an id (pages and API) answers every role with the same status,
    type and bytes, after running the same SQL statements (literals aside)."""
    routes = swept_routes()
    assert len(routes) >= 60
    problems: list[str] = []
    compared = 0
    warm: set = set()
    for role in Role:
        client = Client(raise_request_exception=False)
        client.force_login(local[role])
        client.get("/")  # the session's first request records it
        other = {**world, **world["compartment_zzz"]}  # the site barrier
        own_compartment = {**world, **world["compartment"]}  # the compartment barrier
        for route in routes:
            keys = {record_key(route, p) for p in route.params}
            ids = {"missing": {p: missing_value(route, p) for p in route.params},
                   "another site's": {p: _id_of(other, route, p) for p in route.params}}
            if keys & COMPARTMENT_KEYS and role != Role.INVESTIGATOR:
                ids["compartment"] = {p: _id_of(own_compartment, route, p)
                                      for p in route.params}
            for method, body in _methods(route):
                answers, works = {}, {}
                urls = {label: route.url(values) for label, values in ids.items()}
                if (route.template, method) not in warm:  # the first call fills caches
                    warm.add((route.template, method))
                    _answer(client, urls["missing"], method, body)
                for label, url in urls.items():
                    answers[label], works[label] = work(
                        client, lambda c, url=url, m=method, b=body: _answer(c, url, m, b))
                where = f"{role} {method.upper()} /{route.template}"
                if answers["missing"][0] not in (403, 404, 405):
                    problems.append(f"{where}: {answers['missing'][0]} for a missing id")
                for label in ids:
                    if label == "missing":
                        continue
                    compared += 1
                    if answers[label] != answers["missing"]:
                        problems.append(f"{where}: the {label} id answers {answers[label][0]} "
                                        f"{answers[label][2][:120]!r}, a missing one "
                                        f"{answers['missing'][0]} "
                                        f"{answers['missing'][2][:120]!r}")
                    elif (diff := _same_work(works["missing"], works[label])):
                        problems.append(f"{where}: the {label} id runs other SQL: {diff}")
    assert compared > 500
    assert problems == [], "\n".join(problems[:40])


# --- the flagged person's searches ------------------------------------------------------

def test_finding_the_flagged_person_takes_the_same_work_as_his_twin(twins, settings):  # noqa: F811
    """Attack 3 (timing, without a clock): his page, his record, his item and receipt, the
    searches that find him (name, code, number) and the suggestions for him run, for every
    non-investigator role, the same number of SQL statements of the same shapes as his
    twin's. (A hold's own custody answers are compared without the hold, for the roles that
    see holds.)"""
    settings.MAWA_CHECKPOINT_EVERY = 0  # see ``steady`` (the twins' clock is stopped)
    def measure(steps, keep) -> list[str]:
        problems = []
        with world(twins, *steps):
            for role in NON_INVESTIGATORS:
                client = client_as(twins.users[role])
                pairs = list(zip(person_requests(twins.flagged), person_requests(twins.plain),
                                 strict=True))
                for flagged, plain in pairs:
                    if not keep(role, flagged):
                        continue
                    fetch(client, flagged)  # the first call fills caches
                    (status_f, *_), work_f = work(client, lambda c, r=flagged: fetch(c, r))
                    (status_p, *_), work_p = work(client, lambda c, r=plain: fetch(c, r))
                    if status_f != status_p:
                        problems.append(f"{role} {flagged.key}: {status_f} vs {status_p}")
                    elif (diff := _same_work(work_p, work_f)):
                        problems.append(f"{role} {flagged.key}: {diff}")
        return problems

    # (documents are left out: their look-ups are their pages', then WeasyPrint, no SQL)
    problems = measure((attach_compartment,), lambda role, r: hold_may_show(role, r)
                       and not r.path.endswith(".pdf"))
    problems += measure((attach_hold,), lambda role, r: not hold_may_show(role, r)
                        and not r.path.endswith(".pdf"))
    assert problems == [], "\n".join(problems[:40])


# --- counts -----------------------------------------------------------------------------

def _figures(text: str) -> list[str]:
    """The numbers of an answer, in order (ids and tokens set aside)."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "", text)
    text = re.sub(r"\b[A-Za-z0-9]{32,}\b", "", text)
    return re.findall(r"(?<![\w-])\d+(?:\.\d+)?(?![\w-])", text)


def test_totals_do_not_count_the_compartment(twins):  # noqa: F811
    """Attack 3 (counts): the figures of the home page, the camp dashboard, the situation
    report, the arrival groups and the custody reconciliation are the same, to every
    non-investigator role, whether or not the flagged person has an allegation, a watch-list
    hit and a held weapon (the held figure itself only for roles that see holds)."""
    day = twins.now.date().isoformat()
    pages = [("/", {}), ("/camp/", {"site": twins.camp.code}),
             (f"/api/camp/{twins.camp.code}/dashboard", {}),
             ("/reports/", {"date": day}), ("/api/reports/sitrep", {"date": day}),
             ("/reception/groups/", {}), ("/api/reception/groups", {}),
             ("/api/custody/reconciliation", {}), ("/custody/", {})]

    def read(steps) -> dict:
        out = {}
        with world(twins, *steps):
            for role in NON_INVESTIGATORS:
                client = client_as(twins.users[role])
                for path, query in pages:
                    r = client.get(path, query)
                    body = r.content.decode("utf-8", "replace")
                    if path == "/api/reports/sitrep" and r.status_code == 200 and \
                            may_custody(role):
                        data = r.json()  # the held figure, where it may be seen, aside
                        for row in data.get("custody", {}).get("rows", []):
                            row.pop("on_hold", None)
                        body = json.dumps(data)
                    out[(role, path)] = (r.status_code, _figures(body))
        return out

    before, after = read(()), read((attach_hold,))
    seen = [k for k, (status, figures) in before.items() if status == 200 and figures]
    assert len(seen) > 20
    hold_pages = {"/reports/", "/custody/"}  # the held column / count of custody staff
    problems = [f"{role} {path}: {before[(role, path)]} → {after[(role, path)]}"
                for role, path in before if before[(role, path)] != after[(role, path)]
                and not (path in hold_pages and may_custody(role))]
    assert problems == [], "\n".join(problems)
