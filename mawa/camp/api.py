"""REST API of the camp (mounted at /api/camp). One endpoint per operation, each calling the
same selectors and services as the pages, so access and rules are identical."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Router, Schema

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
    details: dict = {}


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
