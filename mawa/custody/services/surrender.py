"""Surrender at the gate: the receipt, each item handed in (accepted or refused), the signed
receipt."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import ChangeItem, UniqueBroken
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict
from mawa.core.ids import client_key_parse
from mawa.core.ledger import ledger_append
from mawa.core.models import Site
from mawa.custody.models import (
    Condition,
    Item,
    Kind,
    MarkingIntegrity,
    MaterielModel,
    Receipt,
    State,
)
from mawa.custody.receipts import payload_sign
from mawa.custody.services._common import (
    ITEM,
    RECEIPT,
    Event,
    EventClock,
    _capture,
    _check,
    _code,
    _created_at,
    _record_many,
    _replaying,
    _when,
    serial_key,
    stream_of,
)
from mawa.reception.models import Status
from mawa.reception.services import person_transition


def receipt_open(*, actor, site: Site, client_key, person=None, group=None,
                 witness: str = "", record_id=None, code: str = "", at=None) -> Receipt:
    """Open a surrender at the gate for a person (or, for items abandoned or handed in
    collectively, an arrival group). Idempotent on ``client_key``.

    ``record_id``, ``code``, ``at``: the origin's id, short code and time when a change from
    another node is replayed (``mawa.custody.replay``); minted here otherwise."""
    access.require(actor, Perm.CUSTODY_RECORD, site)
    key = client_key_parse(client_key)
    existing = Receipt.objects.filter(client_key=key).first()
    if existing:
        return existing
    if person is None and group is None:
        _check({"bearer": [_("Name the person who hands the items in, or their arrival "
                             "group.")]})
    with transaction.atomic():
        receipt = Receipt(
            site=site, short_code=_code(site, code), client_key=key, person=person,
            group=group if person is None else (group or person.group), received_by=actor,
            witness=(witness or "").strip()[:160])
        if record_id is not None:
            receipt.id = record_id
        receipt.save(force_insert=True)
        _created_at(Receipt, receipt.pk, _when(at) if at is not None else None)
        receipt.refresh_from_db(fields=["created_at"])
        ledger_append(stream=stream_of(site), kind="receipt_opened", actor=actor, site=site,
                      payload={"receipt": str(receipt.pk), "code": receipt.short_code,
                               "person": str(person.pk) if person else "",
                               "group": str(receipt.group_id or "")})
        _capture([ChangeItem(RECEIPT, receipt.pk, ChangeOp.CREATE, {
            "site": site.code, "client_key": key, "person": person.pk if person else None,
            "group": receipt.group_id, "witness": receipt.witness, "code": receipt.short_code,
            "at": receipt.created_at})], actor=actor, site=site)
    return receipt


def _bearer_code(receipt: Receipt) -> str:
    """Who handed the items in: the person, else the arrival group (a receipt has one)."""
    if receipt.person is not None:
        return receipt.person.short_code
    assert receipt.group is not None  # the receipt_has_bearer constraint
    return receipt.group.short_code


@dataclass
class ItemInput:
    """What the officer records at the unloading bay for one item."""

    kind: str = Kind.WEAPON
    catalogue: MaterielModel | None = None
    accepted: bool = True
    refusal_reason: str = ""
    iti_category: str = ""
    unroca_category: str = ""
    make: str = ""
    model: str = ""
    variant: str = ""
    serial_number: str = ""
    parts_serials: str = ""
    calibre: str = ""
    country_of_manufacture: str = ""
    year_of_manufacture: int | None = None
    markings: str = ""
    marking_location: str = ""
    marking_integrity: str = MarkingIntegrity.INTACT
    condition: str = Condition.SERVICEABLE
    cleared_by: str = ""
    verified_by: str = ""
    quantity: int = 1
    ammunition_type: str = ""
    unit: str = ""
    packaging: str = ""
    lot_number: str = ""
    headstamps: str = ""
    hazard_division: str = ""
    safety_assessment: str = ""
    chassis_number: str = ""
    engine_number: str = ""
    plate: str = ""
    tactical_markings: str = ""
    documents_on_board: str = ""
    hazards: str = ""
    mounted_on: Item | None = None


def item_input(values: dict) -> ItemInput:
    """The one way an interface's raw values for one item (a page form's cleaned data, an API
    body) become the service's ``ItemInput``: keys that are not fields are dropped, empty
    values (``None``) fall back to the field's default, and the catalogue model may be given
    by name. An unknown model name is refused on the ``catalogue`` field, never ignored."""
    data: dict[str, Any] = {}
    for f in fields(ItemInput):
        value = values.get(f.name)
        if value is None:
            continue
        if f.name == "catalogue" and isinstance(value, str):
            name = value.strip()
            if not name:
                continue
            value = MaterielModel.objects.filter(name=name).first()
            if value is None:
                _check({"catalogue": [_("This model is not in the catalogue: choose one of "
                                        "the list, or leave it empty and type the make and "
                                        "model.")]})
        data[f.name] = value
    return ItemInput(**data)


def item_input_fields(data: ItemInput) -> dict:
    """``data`` as the JSON a change carries (the catalogue model and the vehicle an item is
    mounted on by id); ``item_input_from`` makes it an ``ItemInput`` again."""
    values: dict[str, Any] = {f.name: getattr(data, f.name) for f in fields(ItemInput)}
    values["catalogue"] = data.catalogue.pk if data.catalogue is not None else None
    values["mounted_on"] = data.mounted_on.pk if data.mounted_on is not None else None
    return values


def item_input_from(values: dict) -> ItemInput:
    """The ``ItemInput`` of ``item_input_fields``."""
    data = {f.name: values[f.name] for f in fields(ItemInput) if f.name in values}
    if data.get("catalogue"):
        data["catalogue"] = MaterielModel.objects.get(pk=data["catalogue"])
    if data.get("mounted_on"):
        data["mounted_on"] = Item.objects.get(pk=data["mounted_on"])
    return ItemInput(**data)


@dataclass
class SurrenderResult:
    item: Item
    created: bool
    duplicate_serial: bool


_ITEM_LENGTHS = {f.name: f.max_length for f in Item._meta.concrete_fields
                 if getattr(f, "max_length", None)}


def _clean_item(data: ItemInput) -> dict:
    errors: dict[str, list] = {}
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    for name, value in values.items():
        if isinstance(value, str):
            values[name] = value.strip()
            # the column's length, checked here: PostgreSQL refuses a longer value outright
            limit = _ITEM_LENGTHS.get(name)
            if limit is not None and len(values[name]) > limit:
                errors.setdefault(name, []).append(
                    _("At most %(n)s characters.") % {"n": limit})
    if values["kind"] not in Kind.values:
        errors.setdefault("kind", []).append(_("Choose weapon, ammunition lot or vehicle."))
    cat = values["catalogue"]
    if cat is not None:
        if cat.kind != values["kind"]:
            errors.setdefault("catalogue", []).append(_("This model is not of that kind."))
        for name, source in (("make", cat.make), ("model", cat.name), ("calibre", cat.calibre),
                             ("iti_category", cat.iti_category),
                             ("unroca_category", cat.unroca_category)):
            values[name] = values[name] or source
    if values["marking_integrity"] not in MarkingIntegrity.values:
        errors.setdefault("marking_integrity", []).append(_("Choose intact, altered or erased."))
    if values["condition"] not in Condition.values:
        errors.setdefault("condition", []).append(_("Choose serviceable or unserviceable."))
    if not values["accepted"] and not values["refusal_reason"]:
        errors.setdefault("refusal_reason", []).append(
            _("Say why the item is refused: the bearer's receipt must show it."))
    if values["kind"] == Kind.WEAPON:
        values["quantity"] = 1
        if not values["serial_number"] and values["marking_integrity"] != MarkingIntegrity.ERASED:
            errors.setdefault("serial_number", []).append(
                _("Type the serial number, or mark the marking as erased."))
        if values["accepted"] and not (values["cleared_by"] and values["verified_by"]):
            errors.setdefault("cleared_by", []).append(
                _("A weapon is taken in only once cleared and verified (IDDRS 4.10 §6.2)."))
    elif values["kind"] == Kind.AMMUNITION:
        if not isinstance(values["quantity"], int) or values["quantity"] < 1:
            errors.setdefault("quantity", []).append(_("Count the rounds: a whole number of at "
                                                       "least 1."))
        values["unit"] = values["unit"] or "rounds"
    else:
        values["quantity"] = 1
        if not (values["chassis_number"] or values["serial_number"] or values["plate"]):
            errors.setdefault("chassis_number", []).append(
                _("Record the hull or chassis number (or the plate)."))
    year = values["year_of_manufacture"]
    if year is not None and not (1850 <= year <= timezone.now().year):
        errors.setdefault("year_of_manufacture", []).append(_("This year is not possible."))
    _check(errors)
    return values


def item_surrender(*, actor, receipt: Receipt, client_key, data: ItemInput,
                   record_id=None, code: str = "", at=None, times=None,
                   origin_duplicate: bool | None = None) -> SurrenderResult:
    """Record one item handed in at the gate (accepted, or refused with its reason).

    Writes the surrender (or refusal) and, for accepted items, the safety clearance, the
    verification and the tag. A serial number already seen is flagged, not refused: serials
    repeat across makers. Idempotent on ``client_key``.

    Replaying a change from another node: ``record_id``, ``code``, ``at`` (created) and
    ``times`` (of its custody events) are the origin's,
    and ``origin_duplicate`` what the origin found. A weapon whose serial is held here by
    another item although the origin saw none (both sides took it in while apart) raises
    ``UniqueBroken``: a review item at headquarters, not a refusal.
    """
    access.require(actor, Perm.CUSTODY_RECORD, receipt.site)
    key = client_key_parse(client_key)
    existing = Item.objects.filter(client_key=key).first()
    if existing:
        return SurrenderResult(existing, False, existing.serial_duplicate)
    values = _clean_item(data)
    accepted = values.pop("accepted")
    site = receipt.site
    with transaction.atomic():
        receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if receipt.status != Receipt.Status.OPEN:
            raise Conflict(_("This receipt was already issued; open a new surrender for more "
                             "items."), code="receipt_issued")
        skey = serial_key(values["serial_number"] or values["chassis_number"])
        duplicate = bool(skey) and Item.objects.filter(serial_key=skey, kind=values["kind"]
                                                       ).exists()
        if duplicate and origin_duplicate is False and values["kind"] == Kind.WEAPON:
            raise UniqueBroken(_("Serial number %(serial)s is already held here for another "
                                 "weapon: taken in at both sites while they were apart.") % {
                                     "serial": values["serial_number"]},
                               code="serial_taken")
        when, clock = _when(at), EventClock(times)
        item = Item(site=site, short_code=_code(site, code), client_key=key,
                    receipt=receipt, serial_key=skey, serial_duplicate=duplicate,
                    location_site=site, **values)
        if record_id is not None:
            item.id = record_id
        qty = values["quantity"]
        bearer = _bearer_code(receipt)
        if not accepted:
            events = [Event("refused", {"receipt": receipt.short_code, "bearer": bearer,
                                        "reason": values["refusal_reason"]},
                            [(item, {"new": True, "qty": qty})])]
        else:
            events = [Event("surrendered", {
                "receipt": receipt.short_code, "bearer": bearer, "serial_duplicate": duplicate,
                "condition": values["condition"],
                "marking_integrity": values["marking_integrity"]},
                [(item, {"new": True, "qty": qty})])]
            events += [Event(kind, {"by": by}, [(item, {})])
                       for kind, by in (("safety_cleared", values["cleared_by"]),
                                        ("verified", values["verified_by"])) if by]
            events.append(Event("tagged", {"tag": item.short_code}, [(item, {})]))
        # one write for the four events (three ledger statements, one item, one index)
        _record_many(actor=actor, site=site, events=events, clock=clock)
        _created_at(Item, item.pk, when)
        item.created_at = when
        _capture([ChangeItem(ITEM, item.pk, ChangeOp.CREATE, {
            "receipt": receipt.pk, "client_key": key, "data": item_input_fields(data),
            "code": item.short_code, "at": when, "times": clock.seen,
            "serial_duplicate": duplicate})],
            actor=actor, site=site)
    return SurrenderResult(item, True, duplicate)


def receipt_lines(receipt: Receipt) -> list[list]:
    return [[i.short_code, i.kind[0].upper(), i.model or i.make, i.serial_number or
             i.chassis_number, "S" if i.condition == Condition.SERVICEABLE else "U",
             i.quantity if i.kind == Kind.AMMUNITION else 1,
             0 if i.state == State.REFUSED else 1]
            for i in receipt.items.order_by("id")]


def receipt_issue(*, actor, receipt: Receipt, signed: str = "", at=None) -> Receipt:
    """Sign the receipt with the site key and close it. Every line maps to an item.

    Replaying a change from another node: ``signed`` and ``at`` are the receipt as the origin
    signed it (this node may not hold the origin site's key) and when; the bearer's
    disarmament travels as its own lifecycle change, so it is not made again here."""
    access.require(actor, Perm.CUSTODY_RECORD, receipt.site)
    with transaction.atomic():
        receipt = Receipt.objects.select_for_update(of=("self",)).select_related(
            "site", "person", "group").get(pk=receipt.pk)
        if receipt.status == Receipt.Status.ISSUED:
            return receipt
        lines = receipt_lines(receipt)
        if not lines:
            raise Conflict(_("Record at least one item before issuing the receipt."),
                           code="receipt_empty")
        now = _when(at)
        if signed:
            receipt.signed_payload = signed
        else:
            bearer = _bearer_code(receipt)
            body = {"v": 1, "r": receipt.short_code, "s": receipt.site.code,
                    "t": now.strftime("%Y-%m-%dT%H:%MZ"), "b": bearer, "i": lines}
            receipt.signed_payload = payload_sign(body, site_code=receipt.site.code)
        receipt.status, receipt.issued_at = Receipt.Status.ISSUED, now
        receipt.save(update_fields=["signed_payload", "status", "issued_at"])
        ledger_append(stream=stream_of(receipt.site), kind="receipt_issued", actor=actor,
                      site=receipt.site,
                      payload={"receipt": str(receipt.pk), "code": receipt.short_code,
                               "items": [line[0] for line in lines],
                               "signed": hashlib.sha256(
                                   receipt.signed_payload.encode()).hexdigest()})
        # captured before the disarmament's own change: a node replaying them in order
        # closes the receipt first, as here
        _capture([ChangeItem(RECEIPT, receipt.pk, ChangeOp.ACTION, {
            "action": "issue", "signed": receipt.signed_payload, "at": now})],
            actor=actor, site=receipt.site)
        if not _replaying():
            _disarm_bearer(actor, receipt, accepted=any(line[-1] for line in lines))
    return receipt


def _disarm_bearer(actor, receipt: Receipt, *, accepted: bool) -> None:
    """The surrender receipt is the person's disarmament (IDDRS 4.10): a person still
    "arrived" who handed in at least one accepted item moves to "disarmed" through the
    lifecycle, in the receipt's transaction."""
    person = receipt.person
    if person is None or not accepted or person.status != Status.ARRIVED:
        return
    person_transition(actor=actor, person=person, to=Status.DISARMED,
                      note=f"{receipt.short_code}", expected_status=Status.ARRIVED)
