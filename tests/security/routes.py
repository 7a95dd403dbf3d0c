"""Every route of the running application, read from Django's URL resolver (pages and the
ninja API alike), with what the attack tests need to call it: the parameters it takes and
which record each parameter names.

A route whose parameter is not in ``PARAM_RECORDS`` or ``CODE_RECORDS`` and not in
``NON_RECORD_PARAMS`` makes ``test_attack_idor.py::test_every_route_with_an_id_is_swept``
fail: a new route cannot be skipped silently by the sweep.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "custody/items/<str:code>/photo/<uuid:photo_id>/"
    name: str  # "custody:photo_file" (pages) or "api:item_get"
    view: object

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in PARAM.finditer(self.template)]

    @property
    def is_api(self) -> bool:
        return self.template.startswith("api/")

    def url(self, values: dict[str, str]) -> str:
        return "/" + PARAM.sub(lambda m: values[m.group("name")], self.template)


def all_routes() -> list[Route]:
    """Every URL pattern except Django's own admin (its own permission system, staff only)."""
    out: list[Route] = []

    def walk(resolver, prefix: str, namespace: str):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}{p.namespace}:"
                walk(p, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                template = prefix + str(p.pattern)
                if template.startswith("admin/"):
                    continue
                out.append(Route(template, f"{namespace}{p.name or ''}", p.callback))

    walk(get_resolver(), "", "")
    seen, unique = set(), []
    for route in out:  # ninja registers one pattern per operation on a shared path
        if route.template not in seen:
            seen.add(route.template)
            unique.append(route)
    return unique


# parameter name → world key of the record it names (see conftest.world)
PARAM_RECORDS = {
    "group_id": "group", "person_id": "person", "site_id": "ZZZ", "photo_id": "photo",
    "hold_id": "hold", "disc_code": "discrepancy", "block_id": "block",
    "shelter_id": "shelter", "movement_id": "movement", "roll_call_id": "rollcall",
    "incident_id": "incident", "pair_id": "pair", "report_id": "report", "token": "import",
    "site": "ZZC", "item_id": "camp_item", "event_id": "event", "referral_id": "referral",
    "evidence_id": "evidence", "user_id": "user", "grant_id": "grant",
    "token_id": "api_token", "job_id": "job", "conflict_id": "sync_conflict",
}
# ``code`` names a short code; which record depends on the path segment before it
CODE_RECORDS = {"items": "item", "receipts": "receipt", "stores": "store", "checks": "check",
                "handovers": "handover"}
COMPARTMENT_KEYS = {"event", "referral", "evidence"}

# parameters that name no record: a format, a day. Each reviewed: the route scopes by the
# user's sites on its own (tested in the reception and reports suites).
NON_RECORD_PARAMS = {
    ("reception/icrc/notification.<str:fmt>", "fmt"),
    ("reports/stats/<str:day>.hxl.csv", "day"),
    ("api/reports/stats/<day>.hxl.csv", "day"),
    # a transfer of bundles (mawa.sync.transport): no site's record, the id is known only to
    # the SYNC_RUN client that opened it (administrators of every site)
    ("api/sync/uploads/<upload_id>", "upload_id"),
    ("api/sync/uploads/<upload_id>/chunks/<index>", "upload_id"),
    ("api/sync/uploads/<upload_id>/chunks/<index>", "index"),
    ("api/sync/uploads/<upload_id>/finish", "upload_id"),
    ("api/sync/downloads/<download_id>", "download_id"),
    ("api/sync/downloads/<download_id>/chunks/<index>", "download_id"),
    ("api/sync/downloads/<download_id>/chunks/<index>", "index"),
    ("api/sync/downloads/<download_id>/done", "download_id"),
}


def record_key(route: Route, param: str) -> str | None:
    if param == "code":
        before = route.template.split("<")[0].rstrip("/").split("/")
        for segment in reversed(before):
            if segment in CODE_RECORDS:
                return CODE_RECORDS[segment]
        return None
    return PARAM_RECORDS.get(param)


def value_of(record) -> str:
    """What a URL carries for a record: its short code when it has one and the route wants a
    code, else its primary key; strings (codes, tokens) as they are."""
    if isinstance(record, str):
        return record
    return str(record.pk)


def swept_routes() -> list[Route]:
    return [r for r in all_routes()
            if any(record_key(r, p) for p in r.params)
            and all((r.template, p) in NON_RECORD_PARAMS or record_key(r, p)
                    for p in r.params)]


def missing_value(route: Route, param: str) -> str:
    """A well-formed id of nothing."""
    if param in ("code", "disc_code"):
        return "ZZZ-99999-K"
    if param == "site":
        return "QQQ"
    if param == "token":
        return "0" * 32
    if (route.template, param) in NON_RECORD_PARAMS:
        return {"fmt": "csv", "day": "2026-01-05", "index": "0"}.get(param, str(uuid.uuid4()))
    return str(uuid.uuid4())
