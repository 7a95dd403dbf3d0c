"""Reports API: the situation report as JSON, the published statistics as HXL."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from ninja import Router, Schema
from pydantic import Field

from mawa.reports import services

router = Router(tags=["reports"])

# --- the situation report's schema: one per section, in the order of the page --------------
# A section whose app is not installed answers ``{"available": false}`` alone. ``url`` is a
# link to the page of the records counted, empty where the role may not follow it.


class UnavailableOut(Schema):
    available: Literal[False]


class ArrivalDayOut(Schema):
    day: dt.date
    by_crossing: list[int] = Field(description="arrivals at each crossing of ``crossings``")
    total: int


class ArrivalGroupOut(Schema):
    code: str
    crossing: str
    reported: int | None
    registered: int
    url: str


class ArrivalsOut(Schema):
    first_arrival: dt.date | None
    before_first: bool
    crossings: list[str]
    table: list[ArrivalDayOut]
    series: list[tuple[str, int]]
    today: int
    total: int
    groups: list[ArrivalGroupOut]
    url: str


class PopulationRowOut(Schema):
    status: str
    label: str
    cells: list[int] = Field(description="persons of each category of ``categories``")
    total: int
    url: str


class PopulationOut(Schema):
    categories: list[str]
    rows: list[PopulationRowOut]
    totals: list[int]
    total: int
    in_care: int
    series: list[tuple[str, int]]


class CampBlockRowOut(Schema):
    name: str
    site: str
    capacity: int
    occupied: int


class CampOut(Schema):
    available: Literal[True]
    rows: list[CampBlockRowOut]
    capacity: int
    occupied: int
    rate: int | None = Field(description="occupancy in percent (none without places)")
    url: str


class OutOfCampRowOut(Schema):
    kind: str
    label: str
    n: int


class OutOfCampOut(Schema):
    available: Literal[True]
    rows: list[OutOfCampRowOut]
    total: int
    overdue: int
    url: str


class RollCallRowOut(Schema):
    status: str
    label: str
    n: int
    expected: int
    present: int
    missing: int


class RollCallsOut(Schema):
    available: Literal[True]
    rows: list[RollCallRowOut]
    total: int
    expected: int
    present: int
    missing: int
    url: str


class CustodyRowOut(Schema):
    kind: str
    label: str
    unit: str
    received: int
    today: int
    relotted: int
    cells: list[int] = Field(description="the measure (rounds for ammunition, items for the "
                                         "rest) in each state of ``states``")
    in_custody: int
    url: str
    balance: int = Field(description="received + relotted - accounted for: 0 when the records "
                                     "agree")
    on_hold: int | None = Field(default=None,
                                description="only for roles that see the custody pages")


class CustodyOut(Schema):
    available: Literal[True]
    states: list[str]
    rows: list[CustodyRowOut]
    received: int
    accounted: int
    in_custody: int
    today: int
    missing: int
    relotted: bool
    balanced: bool
    open_discrepancies: int
    series: list[tuple[str, int]]


class DistributionRowOut(Schema):
    name: str
    unit: str
    given: int
    stock: int
    days: str | None = Field(description="days of supply left (decimal), none without need")


class DistributionsOut(Schema):
    available: Literal[True]
    rows: list[DistributionRowOut]
    url: str


class CostOut(Schema):
    available: Literal[True]
    to_date: str = Field(description="decimal, in the currency of the unit costs")
    day: str = Field(description="decimal")


class IncidentRowOut(Schema):
    kind: str
    severity: str
    n: int


class IncidentsOut(Schema):
    available: Literal[True]
    rows: list[IncidentRowOut]
    total: int
    rollcall_discrepancies: int
    url: str


class ChangeRowOut(Schema):
    from_: str = Field(alias="from")
    to: str
    n: int


class ChangesOut(Schema):
    rows: list[ChangeRowOut]
    total: int
    previous: dt.date


class SitrepOut(Schema):
    day: dt.date
    site: str = Field(description="the site's code, or ALL")
    arrivals: ArrivalsOut
    population: PopulationOut
    camp: CampOut | UnavailableOut
    out_of_camp: OutOfCampOut | UnavailableOut
    rollcalls: RollCallsOut | UnavailableOut
    custody: CustodyOut | UnavailableOut
    distributions: DistributionsOut | UnavailableOut
    cost: CostOut | UnavailableOut
    incidents: IncidentsOut | UnavailableOut
    changes: ChangesOut
    empty: bool = Field(description="no arrival yet by the day")


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


@router.get("/sitrep", response=SitrepOut, by_alias=True, exclude_unset=True)
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
