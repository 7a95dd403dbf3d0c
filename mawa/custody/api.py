"""Custody REST API (mounted at /api/custody): one endpoint per operation, its own schemas.

Each endpoint parses, calls one selector or service, and shapes the answer; domain errors are
mapped to JSON once, in ``mawa.api``.
"""

from __future__ import annotations

import dataclasses
import typing
import uuid

from ninja import Router, Schema, Status
from pydantic import Field, JsonValue, ValidationError, create_model

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import NotFound
from mawa.core.ids import short_code_normalise
from mawa.custody import selectors, services
from mawa.custody.models import Item, LegalHold

router = Router(tags=["custody"])


class ItemOut(Schema):
    tag: str
    kind: str
    title: str
    serial_number: str
    serial_duplicate: bool
    calibre: str
    iti_category: str
    unroca_category: str
    marking_integrity: str
    condition: str
    state: str
    location: str
    store: str | None
    bay: str
    rack: str
    quantity: int
    legal_hold: bool
    receipt: str | None


def _item_out(i: Item) -> dict:
    return {"tag": i.short_code, "kind": i.kind, "title": i.title,
            "serial_number": i.serial_number or i.chassis_number,
            "serial_duplicate": i.serial_duplicate, "calibre": i.calibre,
            "iti_category": i.iti_category, "unroca_category": i.unroca_category,
            "marking_integrity": i.marking_integrity, "condition": i.condition,
            "state": i.state, "location": i.location_site.code,
            "store": i.store.short_code if i.store else None, "bay": i.bay, "rack": i.rack,
            "quantity": i.quantity, "legal_hold": i.on_hold,
            "receipt": i.receipt.short_code if i.receipt else None}


class CustodyEventOut(Schema):
    seq: int
    kind: str
    ts: str
    actor: str
    site: str
    data: dict[str, JsonValue] = Field(description="what the event recorded, as on the ledger "
                                                   "(its fields depend on the kind)")
    ledger: str


class ItemDetailOut(ItemOut):
    events: list[CustodyEventOut]


@router.get("/items", response=list[ItemOut])
def items_list(request, q: str = "", state: str = "", kind: str = "", store: str = "",
               before: uuid.UUID | None = None):
    """Items at your sites, newest first; page with ``before`` = the last id seen."""
    store_obj = selectors.store_get(user=request.auth, code=store) if store else None
    items = selectors.item_list(user=request.auth, q=q, state=state, kind=kind,
                                store=store_obj, before=before)
    return [_item_out(i) for i in items]


@router.get("/items/{code}", response=ItemDetailOut)
def item_get(request, code: str):
    item = selectors.item_get(user=request.auth, code=code)
    events = [{"seq": e.seq, "kind": e.kind, "ts": e.ts, "actor": e.actor, "site": e.site,
               "data": e.data, "ledger": e.stream_ref}
              for e in selectors.item_history(item=item)]
    return {**_item_out(item), "events": events}


class ReceiptIn(Schema):
    client_key: uuid.UUID
    person: str | None = None
    group: str | None = None
    witness: str = ""
    site: str | None = None


class ReceiptOut(Schema):
    code: str
    status: str
    site: str
    bearer: str
    items: list[str]
    signed_payload: str


def _receipt_out(r) -> dict:
    return {"code": r.short_code, "status": r.status, "site": r.site.code,
            "bearer": r.person.short_code if r.person_id else r.group.short_code,
            "items": [i.short_code for i in r.items.order_by("id")],
            "signed_payload": r.signed_payload}


@router.post("/receipts", response={201: ReceiptOut})
def receipt_open(request, body: ReceiptIn):
    """Open a surrender at the gate for a person (or an arrival group)."""
    from mawa.reception.models import ArrivalGroup
    from mawa.reception.selectors import persons_visible

    user = request.auth
    access.require(user, Perm.CUSTODY_RECORD)
    sites = access.sites_for(user)
    site = sites.filter(code=body.site).first() if body.site else sites.first()
    if site is None:
        raise NotFound()
    person = group = None
    if body.person:
        person = persons_visible(user=user).filter(
            short_code=short_code_normalise(body.person) or "").first()
        if person is None:
            raise NotFound()
    elif body.group:
        group = access.scope(ArrivalGroup.objects.all(), user).filter(
            short_code=short_code_normalise(body.group) or "").first()
        if group is None:
            raise NotFound()
    receipt = services.receipt_open(actor=user, site=site, client_key=body.client_key,
                                    person=person, group=group, witness=body.witness)
    return Status(201, _receipt_out(receipt))


@router.get("/receipts/{code}", response=ReceiptOut)
def receipt_get(request, code: str):
    return _receipt_out(selectors.receipt_get(user=request.auth, code=code))


def _item_in_schema() -> type[Schema]:
    """The body of a surrender: ``client_key`` and the fields of the service's ``ItemInput``
    (declared once, there), the catalogue model by name. The kind is required of a client
    (a missing one must not make a weapon by default); ``mounted_on`` names another item
    and is not taken from a body."""
    hints = typing.get_type_hints(services.ItemInput)
    spec: dict = {"client_key": (uuid.UUID, ...), "kind": (str, ...),
                  "catalogue": (str | None, None)}
    for f in dataclasses.fields(services.ItemInput):
        if f.name not in spec and f.name != "mounted_on":
            spec[f.name] = (hints[f.name], f.default)
    return create_model("ItemIn", __base__=Schema, **spec)


if typing.TYPE_CHECKING:
    # what the endpoint reads of the generated schema, for the type checker (which cannot
    # follow ``create_model``)
    class ItemIn(Schema):
        client_key: uuid.UUID
        kind: str
        catalogue: str | None = None
else:
    ItemIn = _item_in_schema()


class SurrenderOut(Schema):
    item: ItemOut
    created: bool
    duplicate_serial: bool


@router.post("/receipts/{code}/items", response={201: SurrenderOut, 200: SurrenderOut})
def item_surrender(request, code: str, body: ItemIn):
    """Record one item handed in (idempotent on ``client_key``; a repeated serial is flagged)."""
    receipt = selectors.receipt_get(user=request.auth, code=code)
    result = services.item_surrender(actor=request.auth, receipt=receipt,
                                     client_key=body.client_key,
                                     data=services.item_input(body.dict()))
    return Status(201 if result.created else 200, {
        "item": _item_out(result.item), "created": result.created,
        "duplicate_serial": result.duplicate_serial})


@router.post("/receipts/{code}/issue", response=ReceiptOut)
def receipt_issue(request, code: str):
    receipt = selectors.receipt_get(user=request.auth, code=code)
    return _receipt_out(services.receipt_issue(actor=request.auth, receipt=receipt))


class CustodyEventDataIn(Schema):
    """What an event records; which fields it requires depends on the kind (the service
    answers 400 naming each one missing)."""

    to_site: str | None = Field(default=None, description="dispatched: the destination's site code")
    escort: str | None = None
    store: str | None = Field(default=None, description="stored, received: the store's id")
    bay: str | None = None
    rack: str | None = None
    taken_by: str | None = None
    purpose: str | None = None
    seal: str | None = None
    method: str | None = None
    plan: str | None = None
    monitor: str | None = None
    certified_by: str | None = None
    recipient: str | None = None
    document: str | None = None
    note: str | None = None
    quantity: int | None = Field(default=None, description="destroyed, of a lot: the rounds "
                                                           "destroyed (the whole lot if absent)")


class CustodyEventIn(Schema):
    kind: str
    data: CustodyEventDataIn = CustodyEventDataIn()


@router.post("/items/{code}/events", response=ItemOut)
def item_event(request, code: str, body: CustodyEventIn):
    """Record a custody event (stored, dispatched, received, sealed, destroyed, …)."""
    item = selectors.item_get(user=request.auth, code=code)
    result = services.item_event_record(actor=request.auth, item=item, kind=body.kind,
                                        data=body.data.dict(exclude_none=True))
    result.refresh_from_db()
    return _item_out(result)


class SplitIn(Schema):
    client_key: uuid.UUID
    parts: list[int]


@router.post("/items/{code}/split", response=list[ItemOut])
def lot_split(request, code: str, body: SplitIn):
    item = selectors.item_get(user=request.auth, code=code)
    return [_item_out(i) for i in services.lot_split(actor=request.auth, item=item,
                                                     parts=body.parts,
                                                     client_key=body.client_key)]


class MergeIn(Schema):
    client_key: uuid.UUID
    lots: list[str]


@router.post("/lots/merge", response=ItemOut)
def lot_merge(request, body: MergeIn):
    lots = [selectors.item_get(user=request.auth, code=c) for c in body.lots]
    return _item_out(services.lot_merge(actor=request.auth, items=lots,
                                        client_key=body.client_key))


class ItemChangesIn(Schema):
    """The fields of an item a correction may change; only those given change."""

    make: str | None = None
    model: str | None = None
    variant: str | None = None
    serial_number: str | None = None
    parts_serials: str | None = None
    calibre: str | None = None
    country_of_manufacture: str | None = None
    year_of_manufacture: int | None = None
    markings: str | None = None
    marking_location: str | None = None
    marking_integrity: str | None = None
    condition: str | None = None
    lot_number: str | None = None
    headstamps: str | None = None
    chassis_number: str | None = None
    engine_number: str | None = None
    plate: str | None = None
    tactical_markings: str | None = None
    iti_category: str | None = None
    unroca_category: str | None = None


class CorrectionIn(Schema):
    changes: ItemChangesIn
    reason: str


@router.post("/items/{code}/corrections", response=ItemOut)
def item_correct(request, code: str, body: CorrectionIn):
    item = selectors.item_get(user=request.auth, code=code)
    return _item_out(services.item_correct(actor=request.auth, item=item,
                                           changes=body.changes.dict(exclude_unset=True),
                                           reason=body.reason))


class HoldOut(Schema):
    id: uuid.UUID
    item: str
    active: bool


# The two hold endpoints belong to the compartment: to anyone else they answer like unknown
# URLs (``access.hidden``), and they are left out of the OpenAPI schema, as the compartment's
# own endpoints are, so that /api/docs does not show them. The body is read only after the
# permission check, so that a body ninja would refuse ("422: reason is required") does not
# tell anyone else that they exist (attack tests 2 and 3).
class HoldIn(Schema):
    reason: str = ""


@router.post("/items/{code}/holds", response={201: HoldOut}, include_in_schema=False)
@access.hidden(Perm.COMPARTMENT_EDIT)
def hold_set(request, code: str):
    """Set a legal hold (investigators only; to anyone else this endpoint does not exist).
    Body: ``HoldIn``; a body that is not one is a hold without a reason (which the service
    refuses)."""
    access.require(request.auth, Perm.COMPARTMENT_EDIT)
    item = selectors.item_get(user=request.auth, code=code)
    try:
        body = HoldIn.model_validate_json(request.body or b"{}")
    except ValidationError:
        body = HoldIn()
    hold = services.legal_hold_set(actor=request.auth, item=item, reason=body.reason)
    return Status(201, {"id": hold.pk, "item": item.short_code, "active": True})


@router.post("/holds/{hold_id}/lift", response=HoldOut, include_in_schema=False)
@access.hidden(Perm.COMPARTMENT_EDIT)
def hold_lift(request, hold_id: uuid.UUID):
    access.require(request.auth, Perm.COMPARTMENT_EDIT)
    # the hold is reached through its item, so the item's sites bound it (as on the page):
    # another site's hold answers like no hold at all (protection.md R3)
    holds = access.scope(LegalHold.objects.select_related("item"), request.auth,
                         site_field=tuple(f"item__{f}" for f in selectors.ITEM_SITES))
    hold = holds.filter(pk=hold_id).first()
    if hold is None:
        raise NotFound()
    hold = services.legal_hold_lift(actor=request.auth, hold=hold)
    return {"id": hold.pk, "item": hold.item.short_code, "active": hold.lifted_at is None}


class CheckIn(Schema):
    client_key: uuid.UUID
    scope: str = "weekly"


class CheckOut(Schema):
    code: str
    store: str
    scope: str
    status: str
    seed: str
    sample: list[str]
    expected_counts: dict[str, int] = Field(description="category → number expected (lots: "
                                                        "rounds)")
    rederives: bool
    discrepancies: list[str]


def _check_out(c) -> dict:
    return {"code": c.short_code, "store": c.store.short_code, "scope": c.scope,
            "status": c.status, "seed": c.seed, "sample": c.sample,
            "expected_counts": c.expected_counts,
            "rederives": services.stock_check_rederive(c),
            "discrepancies": [d.description for d in c.discrepancies.all()]}


@router.post("/stores/{code}/checks", response={201: CheckOut})
def check_start(request, code: str, body: CheckIn):
    store = selectors.store_get(user=request.auth, code=code)
    check = services.stock_check_start(actor=request.auth, store=store, scope=body.scope,
                                       client_key=body.client_key)
    return Status(201, _check_out(check))


@router.get("/checks/{code}", response=CheckOut)
def check_get(request, code: str):
    return _check_out(selectors.check_get(user=request.auth, code=code))


class StockScanIn(Schema):
    tag: str
    serial: str = ""
    quantity: int | None = None


@router.post("/checks/{code}/scan", response=CheckOut)
def check_scan(request, code: str, body: StockScanIn):
    check = selectors.check_get(user=request.auth, code=code)
    services.stock_check_scan(actor=request.auth, check=check, code=body.tag,
                              serial=body.serial, quantity=body.quantity)
    return _check_out(check)


class CloseIn(Schema):
    counted: dict[str, int] = {}


@router.post("/checks/{code}/close", response=CheckOut)
def check_close(request, code: str, body: CloseIn):
    check = selectors.check_get(user=request.auth, code=code)
    return _check_out(services.stock_check_close(actor=request.auth, check=check,
                                                 counted=body.counted))


class ReconciliationCountsOut(Schema):
    """Pieces (rounds, for lots) in each column."""

    surrendered: int
    in_store: int
    at_gate: int
    in_transit: int
    out_on_access: int
    disposed: int
    missing: int


class ReconciliationLineOut(ReconciliationCountsOut):
    site: str
    kind: str
    category: str


class ReconciliationOut(Schema):
    lines: list[ReconciliationLineOut]
    columns: list[str]
    totals: ReconciliationCountsOut = Field(description="the pieces of every kind but lots")
    rounds: ReconciliationCountsOut = Field(description="the rounds of the lots")


@router.get("/reconciliation", response=ReconciliationOut)
def reconciliation(request):
    """Surrendered vs in store vs in transit vs disposed vs missing, by site and category."""
    return selectors.reconciliation(user=request.auth)


class VerifyIn(Schema):
    code: str


class VerifyOut(Schema):
    valid: bool
    receipt: dict[str, JsonValue] = Field(description="the receipt's signed content")


@router.post("/verify-receipt", auth=None, response=VerifyOut)
def verify_receipt(request, body: VerifyIn):
    """Check a receipt's QR text (public, no sign-in)."""
    from mawa.custody.receipts import payload_verify

    return {"valid": True, "receipt": payload_verify(body.code)}


# --- return to the country of origin -----------------------------------------------------

class HandoverIn(Schema):
    client_key: uuid.UUID
    items: list[str]
    recipient: str  # the receiving party: the state or authority
    delegation: list[str] = []  # the names of the people who receive for it
    document: str
    witness: str = ""
    conditions: dict[str, str] = {}
    notes: dict[str, str] = {}


class HandoverLineOut(Schema):
    item: str
    quantity: int
    condition_at_surrender: str
    condition_at_return: str
    note: str


class HandoverOut(Schema):
    code: str
    site: str
    recipient: str
    document: str
    handed_over_at: str
    ledger_seq: int
    lines: list[HandoverLineOut]
    document_url: str


def _handover_out(batch) -> dict:
    from django.urls import reverse

    return {"code": batch.short_code, "site": batch.site.code, "recipient": batch.recipient,
            "document": batch.document, "handed_over_at": batch.handed_over_at.isoformat(),
            "ledger_seq": batch.ledger_seq,
            "lines": [{"item": ln.item.short_code, "quantity": ln.quantity,
                       "condition_at_surrender": ln.condition_at_surrender,
                       "condition_at_return": ln.condition_at_return, "note": ln.note}
                      for ln in batch.report],
            "document_url": reverse("custody:handover_pdf", args=[batch.short_code])}


@router.post("/handovers", response={201: HandoverOut})
def handover_create(request, body: HandoverIn):
    """Return a batch of items to the country of origin with a condition report. Refused as a
    whole (409 ``legal_hold``, the held tags named) if any item is under legal hold."""
    items = selectors.items_by_tag(user=request.auth, tags=body.items)
    batch = services.handover_return(
        actor=request.auth, items=items, client_key=body.client_key, recipient=body.recipient,
        delegation=body.delegation, document=body.document, witness=body.witness,
        conditions=body.conditions, notes=body.notes)
    return Status(201, _handover_out(selectors.handover_get(user=request.auth,
                                                            code=batch.short_code)))


@router.get("/handovers/{code}", response=HandoverOut)
def handover_get(request, code: str):
    """A handover batch and its condition report; the PDF is at ``document_url``."""
    return _handover_out(selectors.handover_get(user=request.auth, code=code))
