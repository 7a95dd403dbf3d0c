"""REST API of the camp (mounted at /api/camp). One endpoint per operation, each calling the
same selectors and services as the pages, so access and rules are identical."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Router, Schema
from pydantic import Field

from mawa.camp import selectors, services

router = Router(tags=["camp"])


class DashboardOut(Schema):
    site: str
    population: int
    housed: int
    capacity: int
    out: int
    overdue: int
    rc_expected: int
    rc_present: int
    rc_missing: int
    distributed_today: int
    incidents_open: int
    discrepancies_open: int


@router.get("/{site}/dashboard", response=DashboardOut)
def dashboard(request, site: str):
    """The camp dashboard's figures, read from the register."""
    camp = selectors.camp_get(user=request.auth, code=site)
    d = selectors.camp_dashboard(user=request.auth, site=camp)
    return {**{k: d[k] for k in DashboardOut.model_fields if k != "site"}, "site": camp.code}


class CheckInIn(Schema):
    client_key: uuid.UUID
    person: str  # short code or id
    shelter: uuid.UUID
    move: bool = False
    override_reason: str = ""


class AssignmentOut(Schema):
    id: uuid.UUID
    person: str
    shelter: uuid.UUID
    start_at: dt.datetime


@router.post("/assignments", response=AssignmentOut)
def assignment_create(request, data: CheckInIn):
    """House a person in a shelter (or move them, with ``move``)."""
    shelter = selectors.shelter_get(user=request.auth, shelter_id=data.shelter)
    person = selectors.camp_person_get(user=request.auth, site=shelter.site,
                                       code_or_id=data.person)
    fn = services.assignment_move if data.move else services.assignment_check_in
    a = fn(actor=request.auth, person=person, shelter=shelter, client_key=data.client_key,
           override_reason=data.override_reason)
    return {"id": a.id, "person": person.short_code, "shelter": a.shelter_id,
            "start_at": a.start_at}


class MovementIn(Schema):
    client_key: uuid.UUID
    site: str
    person: str
    kind: str
    due_back_at: dt.datetime | None = None
    destination: str = ""
    note: str = ""
    details: dict[str, str] = Field(
        {}, description="what the lifecycle move requires, by name (see GET /api/reception/"
                        "persons/{person_id}/transitions), e.g. the repatriation declaration")


class MovementOut(Schema):
    id: uuid.UUID
    person: str
    kind: str
    out_at: dt.datetime
    due_back_at: dt.datetime | None
    returned_at: dt.datetime | None


def _movement(m) -> dict:
    return {"id": m.id, "person": m.person.short_code, "kind": m.kind, "out_at": m.out_at,
            "due_back_at": m.due_back_at, "returned_at": m.returned_at}


@router.post("/movements", response=MovementOut)
def movement_create(request, data: MovementIn):
    """A person leaves the camp (out and back, or for good); the lifecycle moves with it."""
    camp = selectors.camp_get(user=request.auth, code=data.site)
    person = selectors.camp_person_get(user=request.auth, site=camp, code_or_id=data.person)
    return _movement(services.movement_out(
        actor=request.auth, person=person, kind=data.kind, site=camp,
        client_key=data.client_key, due_back_at=data.due_back_at,
        destination=data.destination, note=data.note, details=data.details))


@router.post("/movements/{movement_id}/return", response=MovementOut)
def movement_back(request, movement_id: uuid.UUID):
    """The person is back."""
    m = selectors.movement_get(user=request.auth, movement_id=movement_id)
    return _movement(services.movement_return(actor=request.auth, movement=m))


@router.get("/{site}/out", response=list[MovementOut])
def people_out(request, site: str):
    """Everyone out of the camp now, soonest due back first."""
    camp = selectors.camp_get(user=request.auth, code=site)
    return [_movement(r.movement) for r in selectors.people_out(user=request.auth, site=camp)]


class RollCallIn(Schema):
    client_key: uuid.UUID
    block: uuid.UUID
    mode: str = "scan"


class RollCallOut(Schema):
    id: uuid.UUID
    status: str
    expected: int
    present: int
    missing: int
    unexpected: int


def _rc(rc) -> dict:
    return {k: getattr(rc, k) for k in ("id", "status", "expected", "present", "missing",
                                         "unexpected")}


@router.post("/rollcalls", response=RollCallOut)
def rollcall_create(request, data: RollCallIn):
    """Start a roll call of a block."""
    block = selectors.block_get(user=request.auth, block_id=data.block)
    return _rc(services.rollcall_start(actor=request.auth, block=block, mode=data.mode,
                                       client_key=data.client_key))


class ScanIn(Schema):
    code: str


class ScanOut(Schema):
    person: str
    expected: bool
    repeated: bool
    message: str


@router.post("/rollcalls/{roll_call_id}/scans", response=ScanOut)
def rollcall_scan(request, roll_call_id: uuid.UUID, data: ScanIn):
    """One ID card scanned; says at once whether the person belongs here."""
    rc = selectors.roll_call_get(user=request.auth, roll_call_id=roll_call_id)
    r = services.rollcall_scan(actor=request.auth, roll_call=rc, code=data.code)
    return {"person": r.person.short_code, "expected": r.expected, "repeated": r.repeated,
            "message": r.message}


class CountsIn(Schema):
    counts: dict[uuid.UUID, int]


@router.post("/rollcalls/{roll_call_id}/counts", response=RollCallOut)
def rollcall_counts(request, roll_call_id: uuid.UUID, data: CountsIn):
    """Head counts per shelter (count mode)."""
    rc = selectors.roll_call_get(user=request.auth, roll_call_id=roll_call_id)
    services.rollcall_count(actor=request.auth, roll_call=rc, counts=data.counts)
    return _rc(rc)


@router.post("/rollcalls/{roll_call_id}/close", response=RollCallOut)
def rollcall_close(request, roll_call_id: uuid.UUID):
    """Close and reconcile."""
    rc = selectors.roll_call_get(user=request.auth, roll_call_id=roll_call_id)
    return _rc(services.rollcall_close(actor=request.auth, roll_call=rc))


class ResolveIn(Schema):
    reason: str


@router.post("/rollcalls/{roll_call_id}/resolve", response=RollCallOut)
def rollcall_resolve(request, roll_call_id: uuid.UUID, data: ResolveIn):
    """Resolve a discrepancy with its reason."""
    rc = selectors.roll_call_get(user=request.auth, roll_call_id=roll_call_id)
    return _rc(services.rollcall_resolve(actor=request.auth, roll_call=rc, reason=data.reason))


class DistributionIn(Schema):
    client_key: uuid.UUID
    item: uuid.UUID
    code: str
    quantity: int = 1


class DistributionOut(Schema):
    id: uuid.UUID
    person: str
    item: uuid.UUID
    quantity: int
    at: dt.datetime


@router.post("/distributions", response=DistributionOut)
def distribution_create(request, data: DistributionIn):
    """Hand a meal or item to the person whose card was scanned; a refusal (409) names the
    rule in ``code`` and explains it in ``message``."""
    item = selectors.item_get(user=request.auth, item_id=data.item)
    d = services.distribution_record_by_code(actor=request.auth, item=item, code=data.code,
                                             client_key=data.client_key,
                                             quantity=data.quantity)
    return {"id": d.id, "person": d.person.short_code, "item": d.item_id,
            "quantity": d.quantity, "at": d.at}


# --- layout ------------------------------------------------------------------------------

class CampShelterOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    capacity: int
    occupied: int


class CampBlockOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    x: int
    y: int
    width: int
    height: int
    capacity: int
    occupied: int
    shelters: list[CampShelterOut]


class CampZoneOut(Schema):
    id: uuid.UUID
    name: str
    capacity: int
    occupied: int
    blocks: list[CampBlockOut]


class CampLayoutOut(Schema):
    site: str
    capacity: int
    occupied: int
    zones: list[CampZoneOut]


@router.get("/{site}/layout", response=CampLayoutOut)
def layout_get(request, site: str):
    """Zones → blocks → shelters with capacity and occupancy (the plan's data)."""
    camp = selectors.camp_get(user=request.auth, code=site)
    layout = selectors.camp_layout(user=request.auth, site=camp)
    return {"site": camp.code, "capacity": layout.capacity, "occupied": layout.occupied,
            "zones": [{
                "id": z.zone.id, "name": z.zone.name, "capacity": z.capacity,
                "occupied": z.occupied,
                "blocks": [{
                    "id": b.block.id, "code": b.block.short_code, "name": b.block.name,
                    "x": b.block.x, "y": b.block.y, "width": b.block.width,
                    "height": b.block.height, "capacity": b.capacity, "occupied": b.occupied,
                    "shelters": [{"id": s.shelter.id, "name": s.shelter.name,
                                  "kind": s.shelter.kind, "capacity": s.shelter.capacity,
                                  "occupied": s.occupied} for s in b.shelters],
                } for b in z.blocks],
            } for z in layout.zones]}


class CampZoneIn(Schema):
    site: str
    name: str
    order: int = 0


class CampCreatedOut(Schema):
    id: uuid.UUID
    name: str


@router.post("/zones", response=CampCreatedOut)
def zone_create(request, data: CampZoneIn):
    """Add a zone to a camp (camp managers)."""
    camp = selectors.camp_get(user=request.auth, code=data.site)
    zone = services.zone_create(actor=request.auth, site=camp, name=data.name, order=data.order)
    return {"id": zone.id, "name": zone.name}


class CampBlockIn(Schema):
    zone: uuid.UUID
    name: str
    x: int = 0
    y: int = 0
    width: int = 100
    height: int = 80


@router.post("/blocks", response=CampCreatedOut)
def block_create(request, data: CampBlockIn):
    """Add a block to a zone; x, y, width and height place it on the plan."""
    zone = selectors.zone_get(user=request.auth, zone_id=data.zone)
    block = services.block_create(actor=request.auth, zone=zone, name=data.name, x=data.x,
                                  y=data.y, width=data.width, height=data.height)
    return {"id": block.id, "name": block.name}


class CampShelterIn(Schema):
    block: uuid.UUID
    name: str
    capacity: int
    kind: str = "tent"


@router.post("/shelters", response=CampCreatedOut)
def shelter_create(request, data: CampShelterIn):
    """Add a shelter (tent, room, hall) with its number of places."""
    block = selectors.block_get(user=request.auth, block_id=data.block)
    shelter = services.shelter_create(actor=request.auth, block=block, name=data.name,
                                      capacity=data.capacity, kind=data.kind)
    return {"id": shelter.id, "name": shelter.name}


class CampCapacityIn(Schema):
    capacity: int


@router.post("/shelters/{shelter_id}/capacity", response=CampShelterOut)
def shelter_capacity(request, shelter_id: uuid.UUID, data: CampCapacityIn):
    """Change a shelter's number of places (never below the people housed there)."""
    shelter = selectors.shelter_get(user=request.auth, shelter_id=shelter_id)
    shelter = services.shelter_capacity_set(actor=request.auth, shelter=shelter,
                                            capacity=data.capacity)
    occupied = len(selectors.shelter_occupants(shelter=shelter))
    return {"id": shelter.id, "name": shelter.name, "kind": shelter.kind,
            "capacity": shelter.capacity, "occupied": occupied}


# --- distribution item types and their rules ---------------------------------------------

class CampItemRulesIn(Schema):
    name_ar: str | None = None
    name_en: str | None = None
    kind: str | None = None
    unit: str | None = None
    unit_cost: str | None = None
    per_person_per_day: str | None = None
    min_interval_hours: int | None = None
    max_per_day: int | None = None
    entitled_statuses: list[str] | None = None
    requires_present: bool | None = None
    is_active: bool | None = None
    excludes: list[uuid.UUID] | None = None


class CampItemCreateIn(CampItemRulesIn):
    site: str
    client_key: uuid.UUID


class CampItemOut(Schema):
    id: uuid.UUID
    name_ar: str
    name_en: str
    kind: str
    unit: str
    unit_cost: str
    per_person_per_day: str
    min_interval_hours: int
    max_per_day: int
    entitled_statuses: list[str]
    requires_present: bool
    is_active: bool
    excludes: list[uuid.UUID]
    stock: int


def _item(item) -> dict:
    return {"id": item.id, "name_ar": item.name_ar, "name_en": item.name_en, "kind": item.kind,
            "unit": item.unit, "unit_cost": str(item.unit_cost),
            "per_person_per_day": str(item.per_person_per_day),
            "min_interval_hours": item.min_interval_hours, "max_per_day": item.max_per_day,
            "entitled_statuses": list(item.entitled_statuses),
            "requires_present": item.requires_present, "is_active": item.is_active,
            "excludes": sorted(item.excludes.values_list("id", flat=True), key=str),
            "stock": item.stock}


def _rules(data: CampItemRulesIn, request) -> tuple[dict, list | None]:
    values = data.dict(exclude_none=True, exclude={"excludes", "site", "client_key"})
    excludes = None
    if data.excludes is not None:
        excludes = [selectors.item_get(user=request.auth, item_id=i) for i in data.excludes]
    return values, excludes


@router.get("/{site}/items", response=list[CampItemOut])
def items_list(request, site: str):
    """Meal and item types of a camp with their entitlement rules and stock."""
    camp = selectors.camp_get(user=request.auth, code=site)
    return [_item(row.item) for row in selectors.stock_rows(user=request.auth, site=camp)]


@router.get("/items/{item_id}", response=CampItemOut)
def item_detail(request, item_id: uuid.UUID):
    """One item type and its rules."""
    return _item(selectors.item_get(user=request.auth, item_id=item_id))


@router.post("/items", response=CampItemOut)
def item_create(request, data: CampItemCreateIn):
    """Define a meal or item type with its rules (who is entitled, interval, maximum per day,
    types excluded the same day). A type that excludes itself is refused."""
    camp = selectors.camp_get(user=request.auth, code=data.site)
    values, excludes = _rules(data, request)
    item = services.item_type_create(actor=request.auth, site=camp, client_key=data.client_key,
                                     data=values, excludes=excludes or [])
    return _item(item)


@router.patch("/items/{item_id}", response=CampItemOut)
def item_rules_update(request, item_id: uuid.UUID, data: CampItemRulesIn):
    """Change an item type's rules; only the fields given change."""
    item = selectors.item_get(user=request.auth, item_id=item_id)
    values, excludes = _rules(data, request)
    return _item(services.item_type_update(actor=request.auth, item=item, data=values,
                                           excludes=excludes))


# --- incidents ---------------------------------------------------------------------------

class CampIncidentIn(Schema):
    site: str
    client_key: uuid.UUID
    kind: str
    severity: str
    occurred_at: dt.datetime
    summary: str
    block: uuid.UUID | None = None
    persons: list[str] = []


class CampFollowUpOut(Schema):
    at: dt.datetime
    note: str
    closes: bool


class CampIncidentOut(Schema):
    id: uuid.UUID
    code: str
    kind: str
    severity: str
    occurred_at: dt.datetime
    block: uuid.UUID | None
    summary: str
    persons: list[str]
    is_closed: bool
    follow_ups: list[CampFollowUpOut]


def _incident(incident) -> dict:
    return {"id": incident.id, "code": incident.short_code, "kind": incident.kind,
            "severity": incident.severity, "occurred_at": incident.occurred_at,
            "block": incident.block_id, "summary": incident.summary,
            "persons": sorted(incident.persons.values_list("short_code", flat=True)),
            "is_closed": incident.is_closed,
            "follow_ups": [{"at": f.at, "note": f.note, "closes": f.closes}
                           for f in incident.follow_ups.order_by("at")]}


@router.get("/{site}/incidents", response=list[CampIncidentOut])
def incidents_list(request, site: str, open_only: bool = False):
    """Incidents of a camp, newest first. Sensitive types (protection, sexual violence,
    self-harm) appear only for protection officers."""
    camp = selectors.camp_get(user=request.auth, code=site)
    qs = selectors.incidents_visible(user=request.auth, site=camp).order_by("-occurred_at")
    if open_only:
        qs = qs.filter(is_closed=False)
    return [_incident(i) for i in qs.prefetch_related("persons", "follow_ups")[:500]]


@router.get("/incidents/{incident_id}", response=CampIncidentOut)
def incident_detail(request, incident_id: uuid.UUID):
    """One incident; a sensitive one answers 404 to anyone without the permission to see it."""
    return _incident(selectors.incident_get(user=request.auth, incident_id=incident_id))


@router.post("/incidents", response=CampIncidentOut)
def incident_create(request, data: CampIncidentIn):
    """Record an incident with the people involved (by ID code)."""
    camp = selectors.camp_get(user=request.auth, code=data.site)
    block = (selectors.block_get(user=request.auth, block_id=data.block)
             if data.block else None)
    persons = [selectors.camp_person_get(user=request.auth, site=camp, code_or_id=c)
               for c in data.persons]
    incident = services.incident_report(
        actor=request.auth, site=camp, client_key=data.client_key, kind=data.kind,
        severity=data.severity, occurred_at=data.occurred_at, summary=data.summary,
        block=block, persons=persons)
    return _incident(incident)


class CampFollowUpIn(Schema):
    note: str
    close: bool = False


@router.post("/incidents/{incident_id}/follow-ups", response=CampIncidentOut)
def incident_follow_up(request, incident_id: uuid.UUID, data: CampFollowUpIn):
    """Add a follow-up to an incident, optionally closing it."""
    incident = selectors.incident_get(user=request.auth, incident_id=incident_id)
    services.incident_follow_up(actor=request.auth, incident=incident, note=data.note,
                                close=data.close)
    return _incident(selectors.incident_get(user=request.auth, incident_id=incident_id))
