"""Attack test 2, from outside (issue 20 item 7): a compartment route is an unknown URL.

Every route of the compartment, found by walking Django's URL resolver and the API's
operations (never a list written by hand, so that a new route is covered on its own), answers
every role without its permission, and a signed-out visitor, exactly what an unknown URL of
the same shape answers: the same status, the same headers, the same body (the echoed path, the
CSRF tokens masked afresh on every answer, the request id and the length that follows from
the path set aside), whatever the method, with or without a CSRF token, with a body ninja
cannot parse, and without the final slash. And the value ``watchlist`` of a query parameter
answers what an unknown value answers.

A route is the compartment's when its view (or one of its API operations) needs a
compartment permission (``access.COMPARTMENT_PERMS``): the permission its decorator records,
or one its source names (``Perm.COMPARTMENT_VIEW`` …); and any route marked
``access.hidden`` is tested the same way.
"""

from __future__ import annotations

import inspect
import re
import uuid
from functools import cache

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from mawa.accounts import access
from mawa.accounts.roles import Perm, Role

from .routes import PARAM, Route, all_routes

pytestmark = pytest.mark.django_db

_PERM_NAMES = {name: value for name, value in vars(Perm).items()
               if name.isupper() and value in access.COMPARTMENT_PERMS}
_NAMED = re.compile(r"\bPerm\.(" + "|".join(_PERM_NAMES) + r")\b")


def _innermost(func):
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    return func


def _perms_of(func) -> set[str]:
    """The compartment permissions a view or endpoint needs: recorded by its decorators, or
    named in its source (its own decorators included)."""
    found = set()
    if getattr(func, "mawa_permission", None) in access.COMPARTMENT_PERMS:
        found.add(func.mawa_permission)
    hidden = getattr(func, "mawa_hidden", None) or {}  # any route marked hidden, too
    found |= set(hidden.values()) if isinstance(hidden, dict) else {hidden}
    try:
        source = inspect.getsource(_innermost(func))
    except (OSError, TypeError):
        return found
    return found | {_PERM_NAMES[name] for name in _NAMED.findall(source)}


def _fill(template: str) -> str:
    """A URL of a route, each parameter a well-formed id of nothing."""
    def value(m: re.Match) -> str:
        conv, name = m.group("conv"), m.group("name")
        if conv == "uuid" or name.endswith("_id"):
            return str(uuid.UUID(int=0x01900000_0000_7000_8000_0000000000AB))
        return "ZZZ-99999-K"
    return "/" + PARAM.sub(value, template)


@cache
def _api_operations() -> dict[str, list]:
    """API route template → the endpoint functions of its operations."""
    from mawa.api import api

    out: dict[str, list] = {}
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            url = "/api" + bound.prefix + re.sub(r"{(\w+)}", r"<\1>", path)
            url = _fill(url.lstrip("/"))
            out[resolve(url).route] = [op.view_func for op in path_view.operations]
    return out


@cache
def compartment_routes() -> list[tuple[Route, frozenset[str]]]:
    """(route, the compartment permissions it needs) for every compartment route."""
    out = []
    for route in all_routes():
        funcs = _api_operations().get(route.template, []) if route.is_api else [route.view]
        perms = set().union(*(_perms_of(f) for f in funcs), _perms_of(route.view))
        if perms:
            out.append((route, frozenset(perms)))
    return out


def test_the_compartment_routes_are_found():
    """The walk finds the routes named in issue 20 (the pages and API of the compartment, the
    watch-list pages, the custody hold endpoints): it reads what it means to. (The walk also
    takes every route marked ``access.hidden``: the administrators' break-glass page.)"""
    found = {route.template for route, _ in compartment_routes()}
    for expected in ("matching/hits/", "matching/watchlists/", "accountability/",
                     "accountability/events/<uuid:event_id>/acts/",
                     "custody/items/<str:code>/hold/",
                     "custody/items/<str:code>/hold/<uuid:hold_id>/lift/",
                     "api/custody/items/<code>/holds", "api/custody/holds/<hold_id>/lift",
                     "api/accountability/events", "api/accountability/events/<event_id>"):
        assert expected in found, expected
    assert "matching/" not in found and "custody/items/<str:code>/" not in found


def _unknown_twin(template: str) -> str:
    """An unknown URL of the same shape: the route's last fixed segment replaced by one no
    route has (the same section of the site, so the same menu entry is marked)."""
    parts = template.split("/")
    last = max(i for i, p in enumerate(parts) if p and "<" not in p)
    parts[last] = re.sub(r"^[^.]*", f"no-such-{uuid.uuid4().hex[:8]}", parts[last])
    url = _fill("/".join(parts))
    with pytest.raises(Resolver404):
        resolve(url)
    return url


_PER_REQUEST = {"x-request-id", "content-length"}


def _answer(response, path: str) -> tuple:
    body = (b"".join(response.streaming_content) if getattr(response, "streaming", False)
            else response.content).decode("utf-8", "replace")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    body = body.replace(path.rstrip("/"), "PATH")
    headers = sorted((k.lower(), v.replace(path.rstrip("/"), "PATH"))
                     for k, v in response.headers.items() if k.lower() not in _PER_REQUEST)
    cookies = sorted(response.cookies)  # their values are the session's and the token's
    return response.status_code, headers, cookies, body


def _requests(route: Route) -> list[tuple[str, str, dict]]:
    """(label, method, client arguments) to send to a route and to its unknown twin."""
    if route.is_api:
        raw = {"data": "{", "content_type": "application/json"}
        return [("GET", "get", {}), ("POST {", "post", raw), ("POST {}", "post",
                {"data": "{}", "content_type": "application/json"}),
                ("PUT", "put", raw), ("DELETE", "delete", {}), ("HEAD", "head", {})]
    return [("GET", "get", {}), ("POST", "post", {"data": {"reason": "x"}}),
            ("PUT", "put", {}), ("HEAD", "head", {})]


def _callers(users):
    """Every role but the investigator, someone of another site, and no one signed in."""
    cast = {role: users[role] for role in Role if role != Role.INVESTIGATOR}
    cast["outsider"] = users["outsider"]
    cast["anonymous"] = None
    return cast


def test_every_compartment_route_answers_like_an_unknown_url(users):
    routes = compartment_routes()
    problems: list[str] = []
    compared = 0
    for who, user in _callers(users).items():
        clients = {"plain": Client(raise_request_exception=False),
                   "csrf": Client(raise_request_exception=False, enforce_csrf_checks=True)}
        for c in clients.values():
            if user is not None:
                c.force_login(user)
            c.get("/")  # the session's first request records it
        for route, perms in routes:
            if any(access.can(user, perm) for perm in perms):
                continue  # an administrator and the break-glass page
            url, twin = _fill(route.template), _unknown_twin(route.template)
            sends = [(label, c_name, method, url, twin, kwargs)
                     for label, method, kwargs in _requests(route)
                     for c_name in ("plain", "csrf") if c_name == "plain" or method != "get"]
            if url.endswith("/"):
                sends.append(("GET without its slash", "plain", "get", url[:-1], twin[:-1], {}))
            for label, c_name, method, path, twin_path, kwargs in sends:
                client = clients[c_name]
                got = _answer(getattr(client, method)(path, **kwargs), path)
                expected = _answer(getattr(client, method)(twin_path, **kwargs), twin_path)
                compared += 1
                if got != expected:
                    diff = [f"{a!r:.200} ≠ {b!r:.200}" for a, b in zip(got, expected,
                                                                       strict=True) if a != b]
                    problems.append(f"{who} {label} ({c_name}) {path}: {diff[0]}")
    assert compared > 300
    assert problems == [], f"{len(problems)} differences:\n" + "\n".join(problems[:40])


@cache
def _string_query_parameters() -> list[tuple[str, str]]:
    """(path, name) of every free-text query parameter of the API's GET operations (a date's
    refusal names the value it refuses)."""
    from mawa.api import api

    out = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        op = operations.get("get")
        for param in (op or {}).get("parameters", []):
            schema = param.get("schema", {})
            if param["in"] == "query" and schema.get("type") == "string" and not (
                    {"format", "enum", "pattern"} & set(schema)):  # free text
                out.append((path, param["name"]))
    return out


def test_the_watchlist_value_of_a_query_answers_like_an_unknown_value(users):
    """``/api/matching/pairs?kind=watchlist`` (and any string parameter of a GET operation)
    answers every role without the compartment what an unknown value answers."""
    params = _string_query_parameters()
    assert ("/api/matching/pairs", "kind") in params
    problems = []
    for who, user in _callers(users).items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        for path, name in params:
            if "{" in path:
                continue
            got = _answer(client.get(path, {name: "watchlist"}), path)
            expected = _answer(client.get(path, {name: "no-such-value"}), path)
            if got[0] != expected[0] or got[3].replace("watchlist", "no-such-value") != \
                    expected[3]:
                problems.append(f"{who} {path}?{name}=watchlist: {got[0]} {got[3][:120]!r}, "
                                f"an unknown value {expected[0]} {expected[3][:120]!r}")
    assert problems == [], "\n".join(problems)


def test_investigators_still_reach_them(users):
    """The other side: the same routes answer an investigator (their pages, the hits)."""
    client = Client()
    client.force_login(users[Role.INVESTIGATOR])
    assert client.get("/matching/hits/").status_code == 200
    assert client.get("/matching/watchlists/").status_code == 200
    assert client.get("/matching/hits").status_code == 301
    assert client.get("/api/matching/pairs", {"kind": "watchlist"}).json() == []
    got = client.post("/api/custody/items/ZZZ-99999-K/holds", "{}",
                      content_type="application/json")
    assert got.status_code == 404 and got.json()["code"] == "not_found"
    got = client.post(f"/api/custody/holds/{uuid.uuid4()}/lift")
    assert got.status_code == 404 and got.json()["code"] == "not_found"
