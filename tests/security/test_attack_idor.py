"""Attack 1 (protection.md R1, R3): the IDOR sweep.

Every route of the application that takes an id (pages and API, read from the URL resolver) is
called by every role with the id of another site's record, of a compartment record, and of no
record at all. The answer must be 404 — the same as for a record that does not exist — never
200 (a leak), 403 (a tell: "it exists but is not yours") or 500. Two answers are tolerated
because they reveal nothing about the record: 405 (the route does not take that method, for
any id) and 403 when the *role* may not use the route at all, which it answers identically for
an id of nothing.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from mawa.accounts.roles import Role

from .routes import (
    COMPARTMENT_KEYS,
    NON_RECORD_PARAMS,
    all_routes,
    missing_value,
    record_key,
    swept_routes,
)

pytestmark = pytest.mark.django_db


def _api_operations() -> dict[str, dict]:
    from mawa.api import api

    return api.get_openapi_schema()["paths"]


def _example(schema: dict, components: dict):
    """A value of the right JSON type, so that the request passes schema validation and
    reaches the access check."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components)
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], components)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _example(props[k], components) for k in schema.get("required", [])}
    if schema.get("format") == "uuid" or kind == "string" and "key" in str(schema.get("title",
                                                                                      "")).lower():
        return "01900000-0000-7000-8000-000000000000"
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": []}.get(kind)


def _requests(route):
    """(method, body, content_type) to try on a route."""
    if not route.is_api:
        return [("get", None, None), ("post", {}, None)]
    from mawa.api import api

    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.template)
    ops = schema["paths"].get(path)
    if ops is None:  # left out of the schema (the compartment's endpoints)
        return [("get", None, None), ("post", {}, "application/json")]
    out = []
    for method, op in ops.items():
        body = None
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            body = _example(content["application/json"]["schema"], components)
        out.append((method, body if body is not None else {}, "application/json"))
    return out


def _call(client, route, values, method, body, content_type):
    url = route.url(values)
    if method == "get":
        return client.get(url)
    if content_type == "application/json":
        import json

        return getattr(client, method)(url, data=json.dumps(body), content_type=content_type)
    return getattr(client, method)(url, data=body or {})


def _value(world_records: dict, route, param: str) -> str:
    if (route.template, param) in NON_RECORD_PARAMS:
        return missing_value(route, param)
    key = record_key(route, param)
    record = world_records[key]
    if isinstance(record, str):
        return record
    if param == "site":
        return record.code
    if param in ("code", "disc_code"):
        return record.short_code
    return str(record.pk)


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _sweep(user, routes, records: dict, *, compartment_only: bool = False) -> list[str]:
    """Call each route with ``records``' ids and with ids of nothing; return what is wrong."""
    problems = []
    client = _client(user)
    for route in routes:
        keys = {record_key(route, p) for p in route.params}
        if compartment_only and not keys & COMPARTMENT_KEYS:
            continue
        values = {p: _value(records, route, p) for p in route.params}
        missing = {p: missing_value(route, p) for p in route.params}
        for method, body, ctype in _requests(route):
            got = _call(client, route, values, method, body, ctype).status_code
            nothing = _call(client, route, missing, method, body, ctype).status_code
            where = f"{user.role} {method.upper()} /{route.template}"
            if got not in (404, 403, 405) or nothing not in (404, 403, 405):
                problems.append(f"{where}: {got} for another's record, {nothing} for nothing")
            elif got != nothing:
                problems.append(f"{where}: {got} for another's record but {nothing} for "
                                "nothing (the difference tells the record exists)")
            elif got == 403 and keys & COMPARTMENT_KEYS:
                problems.append(f"{where}: 403 in the compartment (must not exist: 404)")
    return problems


def test_every_route_with_an_id_is_swept():
    """Attack 1: a new route with an id parameter must be taught to the sweep (or listed as
    naming no record), never skipped silently."""
    unknown = [f"/{r.template} ({p})" for r in all_routes() for p in r.params
               if (r.template, p) not in NON_RECORD_PARAMS and record_key(r, p) is None]
    assert unknown == [], ("routes the IDOR sweep cannot build a record for; add them to "
                           "tests/security/routes.py: " + ", ".join(unknown))
    assert len(swept_routes()) >= 60


@pytest.mark.parametrize("role", list(Role))
def test_another_sites_records_answer_404_to_every_role(role, world, local):
    """Attack 1 / R3: every id route × this role × records of ZZZ, ZZC, ZZD (and compartment
    records of ZZZ) → 404, never 200, 403-that-differs or 500."""
    records = dict(world)
    records.update(world["compartment_zzz"])
    records["import"] = world["import"]
    problems = _sweep(local[role], swept_routes(), records)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.INVESTIGATOR])
def test_compartment_records_do_not_exist_for_other_roles(role, world, local):
    """Attack 1 / R1: compartment ids at the user's own site → 404 for every role but the
    investigator, by every route that takes one (pages and API)."""
    records = dict(world)
    records.update(world["compartment"])
    problems = _sweep(local[role], swept_routes(), records, compartment_only=True)
    assert problems == [], "\n".join(problems)


def test_malformed_ids_answer_404_not_500(local, sites):
    """Attack 1 / R3: ids that are no ids at all (bad UUID text, SQL, path tricks) → 404."""
    client = _client(local[Role.INVESTIGATOR])
    for route in swept_routes():
        for junk in ("1%20OR%201=1", "..%2F..%2Fetc", "%D9%85%D8%AD%D9%85%D8%AF", "0" * 40):
            values = dict.fromkeys(route.params, junk)
            if route.template.endswith(".<str:fmt>"):
                values["fmt"] = "csv"
            try:
                url = route.url(values)
            except KeyError:
                continue
            response = client.get(url)
            # the API's typed path parameters refuse bad UUID text as invalid input (422),
            # whatever the text: no record is looked up
            allowed = (404, 405, 403, 422) if route.is_api else (404, 405, 403)
            assert response.status_code in allowed, (url, response.status_code)
