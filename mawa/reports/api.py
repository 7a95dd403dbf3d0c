"""Reports API: the situation report as JSON, the published statistics as HXL."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Router

from mawa.reports import services

router = Router(tags=["reports"])

def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("scope", "charts")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "quantize"):
        return str(value)
    return value


@router.get("/sitrep")
def sitrep(request, date: dt.date, site: str = "ALL"):
    """The situation report for a day and a scope (a site code, or ALL for every site the
    user works at); links to records are given only where the role may follow them."""
    report = services.sitrep_get(user=request.auth, day=date, site_code=site, fmt="json")
    scope = report["scope"]
    return {"day": scope.day.isoformat(), "site": scope.code, **_plain(report)}


@router.get("/stats/{day}.hxl.csv", openapi_extra={"responses": {200: {
    "description": "The release as HXL-tagged CSV",
    "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def stats_hxl(request, day: dt.date, purpose: str = "", recipient: str = ""):
    """A published statistics release as an HXL-tagged CSV (``Perm.STATS_PUBLISH``); the
    purpose and recipient are required and go on the ledger."""
    release = services.stats_release_get(user=request.auth, day=day)
    text = services.stats_hxl(user=request.auth, release=release, purpose=purpose,
                              recipient=recipient)
    return HttpResponse(text, content_type="text/csv; charset=utf-8")
