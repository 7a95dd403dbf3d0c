"""Writes of custody: surrender and receipts, custody events, lots, legal holds, stock checks.

Every function checks access through ``mawa.accounts.access``, runs in one transaction and
writes its ledger entries (stream ``custody/<site code>``) inside it, so a change and its record
commit or fail together. The item rows being changed are locked first (``select_for_update``):
two officers acting on the same item at once are serialised, and the second sees the state the
first left — which is how "one custodian and one location at a time" holds under races.

Invariants (reference/custody.md, "design"), each enforced here and tested:
- one current custodian and location per item: they are single fields of the projection, only
  ``_record`` writes them, from ``derive.apply``;
- lot quantities conserved across split, merge and destruction (``lot_split``, ``lot_merge``,
  ``item_event_record`` for ``destroyed``), and checked again by ``mawa custody verify``;
- nothing under legal hold is destroyed, deactivated, transferred or returned (IDDRS 6.40 §7.1);
- nothing leaves custody without a disposition event (``derive.KINDS``);
- a correction never rewrites history: it is a new event naming the old and new values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import uuid
from dataclasses import dataclass, fields

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import Conflict, NotFound, ValidationFailed
from mawa.core.ledger import ledger_append
from mawa.core.models import Site
from mawa.core.services import short_code_next
from mawa.custody import derive
from mawa.custody.models import (
    Condition,
    CustodyEvent,
    Discrepancy,
    HandoverBatch,
    HandoverLine,
    Item,
    ItemPhoto,
    Kind,
    LegalHold,
    MarkingIntegrity,
    MaterielModel,
    Receipt,
    State,
    StockCheck,
    StockCheckLine,
    Store,
)
from mawa.custody.receipts import payload_sign

PHOTO_MAX_BYTES = 8 * 1024 * 1024
HOLD_MESSAGE = _("Cannot be disposed: legal hold.")


def stream_of(site) -> str:
    return f"custody/{site.code}"


def _check(errors: dict):
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={k: [str(m) for m in v] for k, v in errors.items()})


def _uuid(value, name: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={name: [str(_("A client key is required."))]})


def serial_key(serial: str) -> str:
    """Serial numbers compared without case, spaces, dashes, dots or slashes; digits ASCII."""
    text = to_ascii_digits(serial or "").upper()
    return "".join(ch for ch in text if ch.isalnum())


# --- the one writer of custody events ----------------------------------------------------

def _state_of(item: Item) -> dict:
    return {"state": item.state, "custodian": str(item.custodian_id or ""),
            "custodian_name": item.custodian_name, "site": item.location_site.code,
            "store": str(item.store_id or ""), "bay": item.bay, "rack": item.rack,
            "quantity": item.quantity, "on_hold": item.on_hold, "seal": item.seal,
            "deactivated": item.deactivated, "remarked": item.remarked, "n": item.item_seq}


def _site_by_code(code: str) -> Site:
    return Site.objects.get(code=code)


def _project(item: Item, s: dict) -> None:
    item.state = s["state"]
    item.custodian_id = s["custodian"] or None
    item.custodian_name = s["custodian_name"]
    if item.location_site_id is None or item.location_site.code != s["site"]:
        item.location_site = _site_by_code(s["site"])
    item.store_id = s["store"] or None
    item.bay, item.rack, item.quantity = s["bay"], s["rack"], s["quantity"]
    item.on_hold, item.seal = s["on_hold"], s["seal"]
    item.deactivated, item.remarked, item.item_seq = s["deactivated"], s["remarked"], s["n"]


def _record(*, actor, site: Site, kind: str, data: dict, lines: list[tuple[Item, dict]]):
    """Append one custody event for ``lines`` (item, extra such as qty/new) and project it.

    Call inside the caller's transaction, with the items locked. New items are passed unsaved
    (``new``); they are saved here with their first state.
    """
    actor_id = str(actor.pk) if hasattr(actor, "pk") else str(actor)
    entry_lines, projected = [], []
    for item, extra in lines:
        before = None if extra.get("new") else _state_of(item)
        after = derive.apply(before, kind, data, extra, actor=actor_id, site=site.code)
        _project(item, after)
        entry_lines.append({"id": str(item.pk), "n": after["n"], **extra, "after": after})
        projected.append((item, before))
    entry = ledger_append(stream=stream_of(site), kind=kind, actor=actor, site=site,
                          payload={"data": data, "items": entry_lines})
    update = ["state", "custodian", "custodian_name", "location_site", "store", "bay", "rack",
              "quantity", "on_hold", "seal", "deactivated", "remarked", "item_seq"]
    for item, extra in lines:
        if extra.get("new"):
            item.save(force_insert=True)
        else:
            item.save(update_fields=update)
    # the index rows carry the entry's time and each item's state and quantity before and
    # after (the situation report reads a past day's register from them)
    at = dt.datetime.fromisoformat(entry.ts)
    CustodyEvent.objects.bulk_create([
        CustodyEvent(item=item, ledger_entry=entry, kind=kind, item_seq=item.item_seq, at=at,
                     from_state=before["state"] if before else None, to_state=item.state,
                     from_quantity=before["quantity"] if before else None,
                     to_quantity=item.quantity)
        for item, before in projected])
    return entry


def _locked(item: Item) -> Item:
    return Item.objects.select_for_update().select_related("location_site").get(pk=item.pk)


def _not_terminal(item: Item):
    if item.state in derive.TERMINAL:
        raise Conflict(_("This item is no longer in custody (%(state)s); nothing more can be "
                         "recorded on it except a correction.") % {
                             "state": item.get_state_display()}, code="not_in_custody")


# --- stores ------------------------------------------------------------------------------

def store_create(*, actor, site: Site, name: str, kind: str = Kind.WEAPON) -> Store:
    """Create a store (armoury, bunker, vehicle park) at ``site``; returns the existing one of
    the same name (a double click does not make two)."""
    access.require(actor, Perm.CUSTODY_RECORD, site)
    name = (name or "").strip()
    if not name:
        _check({"name": [_("Give the store a name.")]})
    with transaction.atomic():
        existing = Store.objects.filter(site=site, name=name).first()
        if existing:
            return existing
        store = Store.objects.create(site=site, name=name, kind=kind,
                                     short_code=short_code_next(site=site))
        ledger_append(stream=stream_of(site), kind="store_created", actor=actor, site=site,
                      payload={"store": str(store.pk), "code": store.short_code})
    return store


# --- surrender at the gate ---------------------------------------------------------------

def receipt_open(*, actor, site: Site, client_key, person=None, group=None,
                 witness: str = "") -> Receipt:
    """Open a surrender at the gate for a person (or, for items abandoned or handed in
    collectively, an arrival group). Idempotent on ``client_key``."""
    access.require(actor, Perm.CUSTODY_RECORD, site)
    key = _uuid(client_key, "client_key")
    existing = Receipt.objects.filter(client_key=key).first()
    if existing:
        return existing
    if person is None and group is None:
        _check({"bearer": [_("Name the person who hands the items in, or their arrival "
                             "group.")]})
    with transaction.atomic():
        receipt = Receipt.objects.create(
            site=site, short_code=short_code_next(site=site), client_key=key, person=person,
            group=group if person is None else (group or person.group), received_by=actor,
            witness=(witness or "").strip()[:160])
        ledger_append(stream=stream_of(site), kind="receipt_opened", actor=actor, site=site,
                      payload={"receipt": str(receipt.pk), "code": receipt.short_code,
                               "person": str(person.pk) if person else "",
                               "group": str(receipt.group_id or "")})
    return receipt


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
    data = {}
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


def item_surrender(*, actor, receipt: Receipt, client_key, data: ItemInput) -> SurrenderResult:
    """Record one item handed in at the gate (accepted, or refused with its reason).

    Writes the surrender (or refusal) and, for accepted items, the safety clearance, the
    verification and the tag. A serial number already seen is flagged, not refused: serials
    repeat across makers. Idempotent on ``client_key``.
    """
    access.require(actor, Perm.CUSTODY_RECORD, receipt.site)
    key = _uuid(client_key, "client_key")
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
        item = Item(site=site, short_code=short_code_next(site=site), client_key=key,
                    receipt=receipt, serial_key=skey, serial_duplicate=duplicate,
                    location_site=site, **values)
        qty = values["quantity"]
        bearer = receipt.person.short_code if receipt.person_id else receipt.group.short_code
        if not accepted:
            _record(actor=actor, site=site, kind="refused", lines=[(item, {"new": True,
                                                                           "qty": qty})],
                    data={"receipt": receipt.short_code, "bearer": bearer,
                          "reason": values["refusal_reason"]})
        else:
            _record(actor=actor, site=site, kind="surrendered",
                    lines=[(item, {"new": True, "qty": qty})],
                    data={"receipt": receipt.short_code, "bearer": bearer,
                          "serial_duplicate": duplicate, "condition": values["condition"],
                          "marking_integrity": values["marking_integrity"]})
            for kind, by in (("safety_cleared", values["cleared_by"]),
                             ("verified", values["verified_by"])):
                if by:
                    _record(actor=actor, site=site, kind=kind, data={"by": by},
                            lines=[(item, {})])
            _record(actor=actor, site=site, kind="tagged", data={"tag": item.short_code},
                    lines=[(item, {})])
    return SurrenderResult(item, True, duplicate)


def receipt_lines(receipt: Receipt) -> list[list]:
    return [[i.short_code, i.kind[0].upper(), i.model or i.make, i.serial_number or
             i.chassis_number, "S" if i.condition == Condition.SERVICEABLE else "U",
             i.quantity if i.kind == Kind.AMMUNITION else 1,
             0 if i.state == State.REFUSED else 1]
            for i in receipt.items.order_by("id")]


def receipt_issue(*, actor, receipt: Receipt) -> Receipt:
    """Sign the receipt with the site key and close it. Every line maps to an item."""
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
        now = timezone.now()
        bearer = receipt.person.short_code if receipt.person_id else receipt.group.short_code
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
    return receipt


# --- photos ------------------------------------------------------------------------------

def _image_ok(content: bytes) -> bool:
    """A photo by its content (core.uploads: magic bytes, full decode, pixel cap)."""
    from mawa.core import uploads

    try:
        uploads.upload_check(content, allowed=uploads.PHOTO_TYPES, max_bytes=PHOTO_MAX_BYTES)
    except uploads.UploadRefused:
        return False
    return True


def item_photo_add(*, actor, item: Item, subject: str, upload) -> ItemPhoto:
    """Attach a photo of the item, a marking or a headstamp (JPEG, PNG or WebP)."""
    access.require(actor, Perm.CUSTODY_RECORD, item.location_site)
    if subject not in ItemPhoto.Subject.values:
        _check({"subject": [_("Choose what the photo shows.")]})
    content = upload.read(PHOTO_MAX_BYTES + 1) if upload else b""
    if not content or len(content) > PHOTO_MAX_BYTES or not _image_ok(content):
        _check({"photo": [_("This file is not a photo (JPEG, PNG or WebP, at most 8 MB).")]})
    from django.core.files.base import ContentFile

    from mawa.core.uploads import image_working_copy

    # Kept re-encoded, without EXIF (where the phone was when it took the photo); the hash on
    # the ledger is the stored file's.
    content = image_working_copy(content).data
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        item = _locked(item)
        photo = ItemPhoto(item=item, subject=subject, sha256=digest)
        photo.image.save(f"{item.short_code}-{digest[:12]}.img", ContentFile(content),
                         save=False)
        photo.save(force_insert=True)
        _record(actor=actor, site=item.location_site, kind="photographed",
                data={"photo": str(photo.pk), "subject": subject, "sha256": digest},
                lines=[(item, {})])
    return photo


# --- custody events from the item page and the API ----------------------------------------

def _text(data: dict, name: str, limit: int = 200) -> str:
    return str(data.get(name) or "").strip()[:limit]


# Some texts of an event become columns of the item: escort, taker and recipient its custodian
# name, bay, rack and seal their own. They are cut to those columns' lengths (PostgreSQL
# refuses a longer value where SQLite would keep it), as the other texts are cut to 200.
CUSTODIAN_NAME_MAX = Item._meta.get_field("custodian_name").max_length
_EVENT_TEXT_LIMITS = {"escort": CUSTODIAN_NAME_MAX, "taken_by": CUSTODIAN_NAME_MAX,
                      "recipient": CUSTODIAN_NAME_MAX,
                      **{k: Item._meta.get_field(k).max_length for k in ("bay", "rack", "seal")}}


def item_event_record(*, actor, item: Item, kind: str, data: dict) -> Item:
    """Record one custody event on an item (moves, seals, dispatch and receipt, access,
    trace checks, deactivation and the dispositions). Refused with a clear message when the
    item's state, a legal hold, its markings or the quantities do not allow it."""
    spec = derive.KINDS.get(kind)
    if spec is None or not spec.manual:
        _check({"kind": [_("Choose an event.")]})
    perm = Perm.CUSTODY_DISPOSE if spec.disposition else Perm.CUSTODY_RECORD
    clean = {k: _text(data, k, _EVENT_TEXT_LIMITS.get(k, 200))
             for k in ("to_site", "escort", "store", "bay", "rack", "taken_by", "purpose",
                       "seal", "method", "plan", "monitor", "certified_by", "recipient",
                       "document", "note")}
    clean = {k: v for k, v in clean.items() if v}
    errors = {name: [_("This is required for this event.")]
              for name in derive.REQUIRED_DATA.get(kind, ()) if not clean.get(name)}
    _check(errors)
    with transaction.atomic():
        item = _locked(item)
        site = item.location_site
        if kind == "received":
            # received where it was sent: the actor acts at the destination
            site = _dispatch_destination(item)
        access.require(actor, perm, site)
        _not_terminal(item)
        if spec.requires is not None and item.state not in spec.requires:
            raise Conflict(_("Not possible while the item is %(state)s.") % {
                "state": item.get_state_display()}, code="wrong_state")
        if spec.disposition and item.on_hold:
            raise Conflict(HOLD_MESSAGE, code="legal_hold")
        if kind in ("transferred", "returned") and item.marking_integrity != \
                MarkingIntegrity.INTACT and not item.remarked:
            raise Conflict(_("The markings of this item were altered or erased: re-mark it (or "
                             "destroy it) before any transfer (IDDRS 4.10 §8)."),
                           code="marking_not_restored")
        if kind == "destroyed" and item.kind == Kind.AMMUNITION and data.get("quantity"):
            qty = _quantity(data.get("quantity"), "quantity")
            if qty > item.quantity:
                _check({"quantity": [_("Only %(n)s are in this lot.") % {"n": item.quantity}]})
            clean["quantity"] = qty
            if qty < item.quantity:
                # Part of a lot: split the destroyed rounds off into their own lot first, so
                # that every round stays in exactly one lot with one state (conservation).
                (item,) = _split_locked(actor, item, [qty], [uuid.uuid4()])
        if kind == "stored":
            store = Store.objects.filter(pk=_maybe_uuid(clean["store"]), site=site,
                                         is_active=True).first()
            if store is None:
                _check({"store": [_("Choose a store at the site where the item is.")]})
            clean["store"] = str(store.pk)
        if kind == "received" and clean.get("store"):
            store = Store.objects.filter(pk=_maybe_uuid(clean["store"]), site=site).first()
            if store is None:
                _check({"store": [_("Choose a store at the site where the item is.")]})
            clean["store"] = str(store.pk)
        if kind == "dispatched":
            dest = Site.objects.filter(code=clean["to_site"].upper(), is_active=True).first()
            if dest is None or dest.pk == site.pk:
                _check({"to_site": [_("Choose another site as destination.")]})
            clean["to_site"] = dest.code
        _record(actor=actor, site=site, kind=kind, data=clean, lines=[(item, {})])
    return item


def _maybe_uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _quantity(value, name: str) -> int:
    try:
        qty = int(to_ascii_digits(str(value)).strip())
    except (TypeError, ValueError):
        qty = 0
    if qty < 1:
        _check({name: [_("A whole number of at least 1.")]})
    return qty


def _dispatch_destination(item: Item) -> Site:
    event = (CustodyEvent.objects.filter(item=item, kind="dispatched")
             .select_related("ledger_entry").order_by("-item_seq").first())
    if event is None:
        raise Conflict(_("This item was not dispatched."), code="wrong_state")
    import json

    return _site_by_code(json.loads(event.ledger_entry.payload)["data"]["to_site"])


def items_dispatch(*, actor, items: list[Item], to_site: str, escort: str) -> int:
    """Dispatch several items at once (one event per item, one transaction)."""
    with transaction.atomic():
        for item in items:
            item_event_record(actor=actor, item=item, kind="dispatched",
                              data={"to_site": to_site, "escort": escort})
    return len(items)


# --- return to the country of origin ---------------------------------------------------

def _handover_problem(item: Item) -> str | None:
    """Why ``item`` cannot be returned now (the same rules as a single ``returned`` event),
    or None. A legal hold is handled apart: its items are named, its reason never shown."""
    if item.state in derive.TERMINAL:
        return _("no longer in custody (%(state)s)") % {"state": item.get_state_display()}
    if item.state not in derive.HELD_IN:
        return _("not possible while the item is %(state)s") % {
            "state": item.get_state_display()}
    if item.marking_integrity != MarkingIntegrity.INTACT and not item.remarked:
        return _("markings altered or erased: re-mark it first (IDDRS 4.10 §8)")
    return None


def _by_tag(values: dict[str, str] | None) -> dict[str, str]:
    """``{tag: value}`` with each tag as typed (lower case, no dashes, Arabic-Indic digits)
    brought to its canonical short code."""
    from mawa.core.ids import short_code_normalise

    return {(short_code_normalise(str(k)) or str(k)): v for k, v in (values or {}).items()}


def handover_recipient(party: str, delegation: list[str] | tuple[str, ...] = ()) -> str:
    """Who receives a batch, as the handover document and the items' custodian name it:
    the receiving party (the state or authority), then the names of its delegation."""
    party = (party or "").strip()
    names = [n.strip() for n in delegation or () if n and n.strip()]
    return f"{party} — {', '.join(names)}" if party and names else party


@dataclass
class HandoverInput:
    """A handover as it was asked for, cleaned: who receives (party and delegation together),
    the agreement, the witness, and the condition report by tag."""

    recipient: str
    document: str
    witness: str
    conditions: dict[str, str]
    notes: dict[str, str]


def _handover_clean(*, items: list[Item], recipient: str, document: str, witness: str,
                    delegation, conditions, notes) -> HandoverInput:
    conditions, notes = _by_tag(conditions), _by_tag(notes)
    errors = {}
    party = (recipient or "").strip()
    recipient, document = handover_recipient(party, delegation), (document or "").strip()[:200]
    if not party:
        errors["recipient"] = [_("Name who receives the materiel for the country of origin.")]
    elif len(recipient) > CUSTODIAN_NAME_MAX:
        # the recipient becomes each item's custodian name (a column of that length)
        errors["recipient"] = [_("At most %(n)s characters for the receiving party and the "
                                 "names of the delegation together.") % {
                                     "n": CUSTODIAN_NAME_MAX}]
    if not document:
        errors["document"] = [_("Give the handover agreement or document.")]
    if not items:
        errors["items"] = [_("Choose at least one item.")]
    bad = sorted(t for t, c in conditions.items() if c not in Condition.values)
    if bad:
        errors["conditions"] = [_("Unknown condition for %(tags)s.") % {"tags": ", ".join(bad)}]
    _check(errors)
    return HandoverInput(recipient, document, (witness or "").strip()[:200], conditions,
                         {t: (n or "").strip()[:300] for t, n in notes.items()})


def _handover_refusals(*, actor, items: list[Item]) -> Site:
    """Refuse the whole batch unless every item can go now; return the one site they leave
    from. ``items`` come locked (``handover_return``) or freshly read (``handover_check``)."""
    sites = {i.location_site_id for i in items}
    if len(sites) != 1:
        _check({"items": [_("Return the items of one site per batch.")]})
    site = items[0].location_site
    access.require(actor, Perm.CUSTODY_DISPOSE, site)
    held = sorted(i.short_code for i in items if i.on_hold)
    if held:
        raise Conflict(_("Cannot be returned, under legal hold: %(tags)s. Nothing was "
                         "handed over.") % {"tags": ", ".join(held)}, code="legal_hold")
    problems = [f"{i.short_code}: {p}" for i in items
                if (p := _handover_problem(i)) is not None]
    if problems:
        raise Conflict(_("Nothing was handed over. %(problems)s") % {
            "problems": "; ".join(problems)}, code="handover_refused")
    return site


def handover_check(*, actor, items: list[Item], recipient: str, document: str,
                   witness: str = "", conditions: dict[str, str] | None = None,
                   notes: dict[str, str] | None = None,
                   delegation: list[str] | tuple[str, ...] = ()) -> HandoverInput:
    """Everything ``handover_return`` would refuse, refused the same way, without writing
    anything: the page shows it before the officer completes the handover in front of the
    delegation. Nothing is locked, so ``handover_return`` checks again."""
    clean = _handover_clean(items=items, recipient=recipient, document=document,
                            witness=witness, delegation=delegation, conditions=conditions,
                            notes=notes)
    _handover_refusals(actor=actor, items=list(
        Item.objects.select_related("location_site").filter(pk__in=[i.pk for i in items])
        .order_by("short_code")))
    return clean


def handover_return(*, actor, items: list[Item], client_key, recipient: str, document: str,
                    witness: str = "", conditions: dict[str, str] | None = None,
                    notes: dict[str, str] | None = None,
                    delegation: list[str] | tuple[str, ...] = ()) -> HandoverBatch:
    """Return many items at once to the country of origin (IDDRS 5.40), with a condition
    report: each item's condition at surrender and at return (``conditions`` maps a tag to
    ``serviceable``/``unserviceable``; unchanged when not given). ``recipient`` is the
    receiving party, ``delegation`` the names of the people who receive for it; the tags of
    ``conditions`` and ``notes`` may be typed as people type them.

    All or nothing: if any item is under legal hold (IDDRS 6.40 §7.1), the batch is refused and
    the held items are named — never the reason of the hold; any other item that cannot be
    returned is refused with its reason. One ``returned`` custody event on the ledger covers the
    batch, in the same transaction as the items' new state and the batch record. Idempotent
    on ``client_key``: a retried or double submission returns the first batch.
    """
    key = _uuid(client_key, "client_key")
    existing = HandoverBatch.objects.filter(client_key=key).first()
    if existing is not None:
        return existing  # a retried submission returns the first batch
    clean = _handover_clean(items=items, recipient=recipient, document=document,
                            witness=witness, delegation=delegation, conditions=conditions,
                            notes=notes)
    with transaction.atomic():
        # lock in a fixed order: two batches sharing items cannot deadlock
        locked = list(Item.objects.select_for_update().select_related("location_site")
                      .filter(pk__in=[i.pk for i in items]).order_by("pk"))
        # A double submission that waited for the first one's locks finds its batch now
        # (PostgreSQL's read committed sees what committed meanwhile), not items gone.
        existing = HandoverBatch.objects.filter(client_key=key).first()
        if existing is not None:
            return existing
        site = _handover_refusals(actor=actor, items=locked)
        now = timezone.now()
        batch = HandoverBatch(site=site, short_code=short_code_next(site=site), client_key=key,
                              recipient=clean.recipient, document=clean.document,
                              witness=clean.witness, handed_over_at=now,
                              handed_over_by=actor, ledger_seq=0)
        lines, report = [], []
        for item in locked:
            at_return = clean.conditions.get(item.short_code, item.condition)
            lines.append((item, {"condition_at_surrender": item.condition,
                                 "condition_at_return": at_return}))
            report.append(HandoverLine(batch=batch, item=item, quantity=item.quantity,
                                       condition_at_surrender=item.condition,
                                       condition_at_return=at_return,
                                       note=clean.notes.get(item.short_code, "")))
        entry = _record(actor=actor, site=site, kind="returned", lines=lines, data={
            "recipient": clean.recipient, "document": clean.document,
            "batch": batch.short_code, **({"witness": batch.witness} if batch.witness else {})})
        batch.ledger_seq = entry.seq
        batch.save(force_insert=True)
        HandoverLine.objects.bulk_create(report)
    return batch


# --- lots --------------------------------------------------------------------------------

def _new_lot(parent: Item, *, site: Site, client_key, quantity: int) -> Item:
    copy = {f.name: getattr(parent, f.name) for f in Item._meta.concrete_fields
            if f.name not in ("id", "short_code", "client_key", "created_at", "receipt",
                              "parent", "custodian", "location_site", "store", "site",
                              "mounted_on", "catalogue")}
    copy["quantity"] = quantity
    return Item(**copy, site=site, short_code=short_code_next(site=site), client_key=client_key,
                parent=parent, catalogue_id=parent.catalogue_id, location_site=site)


def lot_split(*, actor, item: Item, parts: list, client_key) -> list[Item]:
    """Split an ammunition lot into new lots of ``parts`` rounds; the rest stays in the parent.

    The parts must not add up to more than the lot holds (quantities are conserved: the one
    entry records −sum on the parent and +part on each child). Idempotent on ``client_key``:
    child ``i`` gets the key derived from it.
    """
    key = _uuid(client_key, "client_key")
    keys = [uuid.uuid5(key, str(i)) for i in range(len(parts))]
    existing = list(Item.objects.filter(client_key__in=keys).order_by("id"))
    if existing:
        return existing
    quantities = [_quantity(p, "parts") for p in parts] if parts else []
    if not quantities:
        _check({"parts": [_("Give the quantity of each new lot.")]})
    with transaction.atomic():
        item = _locked(item)
        access.require(actor, Perm.CUSTODY_RECORD, item.location_site)
        if item.kind != Kind.AMMUNITION:
            _check({"parts": [_("Only ammunition lots can be split.")]})
        _not_terminal(item)
        if item.state not in derive.HELD_IN:
            raise Conflict(_("Not possible while the item is %(state)s.") % {
                "state": item.get_state_display()}, code="wrong_state")
        if item.on_hold:
            # a child lot would not carry the hold; evidence stays together (IDDRS 6.40)
            raise Conflict(HOLD_MESSAGE, code="legal_hold")
        if sum(quantities) > item.quantity:
            _check({"parts": [_("The parts add up to %(sum)s but the lot holds %(n)s.") % {
                "sum": sum(quantities), "n": item.quantity}]})
        children = _split_locked(actor, item, quantities, keys)
    return children


def _split_locked(actor, item: Item, quantities: list[int], keys: list) -> list[Item]:
    site = item.location_site
    children = [_new_lot(item, site=site, client_key=k, quantity=q)
                for k, q in zip(keys, quantities, strict=True)]
    lines = [(item, {"qty": -sum(quantities)})] + [
        (c, {"new": True, "qty": q}) for c, q in zip(children, quantities, strict=True)]
    _record(actor=actor, site=site, kind="split", lines=lines,
            data={"parent": item.short_code, "store": str(item.store_id or ""),
                  "bay": item.bay, "rack": item.rack})
    return children


def lot_merge(*, actor, items: list[Item], client_key) -> Item:
    """Merge ammunition lots of one calibre and type, at one place, into a new lot."""
    key = _uuid(client_key, "client_key")
    existing = Item.objects.filter(client_key=key).first()
    if existing:
        return existing
    if len(items) < 2:
        _check({"items": [_("Choose at least two lots to merge.")]})
    with transaction.atomic():
        locked = list(Item.objects.select_for_update().select_related("location_site")
                      .filter(pk__in=[i.pk for i in items]).order_by("id"))
        first = locked[0]
        access.require(actor, Perm.CUSTODY_RECORD, first.location_site)
        for lot in locked:
            if lot.kind != Kind.AMMUNITION or lot.state != State.IN_CUSTODY:
                _check({"items": [_("Only lots in custody can be merged.")]})
            if (lot.calibre, lot.ammunition_type, lot.location_site_id, lot.store_id) != (
                    first.calibre, first.ammunition_type, first.location_site_id, first.store_id):
                _check({"items": [_("Lots of different calibre, type or place cannot be "
                                    "merged.")]})
            if lot.on_hold:
                raise Conflict(HOLD_MESSAGE, code="legal_hold")
        total = sum(lot.quantity for lot in locked)
        site = first.location_site
        target = _new_lot(first, site=site, client_key=key, quantity=total)
        lines = [(lot, {"qty": -lot.quantity}) for lot in locked] + [
            (target, {"new": True, "qty": total})]
        _record(actor=actor, site=site, kind="merged", lines=lines,
                data={"sources": [lot.short_code for lot in locked],
                      "store": str(first.store_id or ""), "bay": first.bay, "rack": first.rack})
    return target


# --- corrections -------------------------------------------------------------------------

CORRECTABLE = ("make", "model", "variant", "serial_number", "parts_serials", "calibre",
               "country_of_manufacture", "year_of_manufacture", "markings", "marking_location",
               "marking_integrity", "condition", "lot_number", "headstamps", "chassis_number",
               "engine_number", "plate", "tactical_markings", "iti_category",
               "unroca_category")


def item_correct(*, actor, item: Item, changes: dict, reason: str) -> Item:
    """Correct what was recorded about an item. The surrender event and the signed receipt
    stay as they were; a correction event names each field's old and new value."""
    reason = (reason or "").strip()
    changes = {k: v for k, v in changes.items() if k in CORRECTABLE}
    if not reason:
        _check({"reason": [_("Say why the record is corrected.")]})
    with transaction.atomic():
        item = _locked(item)
        access.require(actor, Perm.CUSTODY_RECORD, item.location_site)
        diff = {k: [getattr(item, k), v] for k, v in changes.items() if getattr(item, k) != v}
        if not diff:
            _check({"reason": [_("Nothing was changed.")]})
        for name, (_old, new) in diff.items():
            setattr(item, name, new)
        updated = list(diff)
        if "serial_number" in diff:
            item.serial_key = serial_key(item.serial_number)
            updated.append("serial_key")
        item.save(update_fields=updated)
        _record(actor=actor, site=item.location_site, kind="correction",
                data={"reason": reason[:300], "changes": diff}, lines=[(item, {})])
    return item


# --- legal holds -------------------------------------------------------------------------

def legal_hold_set(*, actor, item: Item, reason: str) -> LegalHold:
    """Place a legal hold (investigators only). The reason stays in the hold record, readable
    by the accountability compartment alone; the ledger says only that a hold was set."""
    access.require(actor, Perm.COMPARTMENT_EDIT)
    reason = (reason or "").strip()
    if not reason:
        _check({"reason": [_("Say why (investigators only will see it).")]})
    with transaction.atomic():
        item = _locked(item)
        hold = LegalHold.objects.create(item=item, reason=reason, set_by=actor)
        _record(actor=actor, site=item.location_site, kind="legal_hold_set",
                data={"hold": str(hold.pk)}, lines=[(item, {})])
    return hold


def legal_hold_lift(*, actor, hold: LegalHold) -> LegalHold:
    """Lift a legal hold (investigators only); the item is free once no hold remains."""
    access.require(actor, Perm.COMPARTMENT_EDIT)
    with transaction.atomic():
        item = _locked(hold.item)
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_at is not None:
            return hold
        hold.lifted_at, hold.lifted_by = timezone.now(), actor
        hold.save(update_fields=["lifted_at", "lifted_by"])
        remaining = LegalHold.objects.filter(item=item, lifted_at__isnull=True).count()
        _record(actor=actor, site=item.location_site, kind="legal_hold_released",
                data={"hold": str(hold.pk), "holds_remaining": remaining}, lines=[(item, {})])
    return hold


# --- stock checks ------------------------------------------------------------------------

WEEKLY_FRACTION = 0.10  # IDDRS 4.10 §7.3.1: at least 10 % of serial numbers every week


def sample_draw(seed: str, population: list[str], scope: str) -> list[str]:
    """The tags to serial-check, re-derivable by anyone from the seed and the population:
    rank each tag by HMAC-SHA256(seed, tag) and take the first ⌈10 %⌉ (all for a full check)."""
    if scope == StockCheck.Scope.FULL:
        return sorted(population)
    size = math.ceil(len(population) * WEEKLY_FRACTION)
    ranked = sorted(population, key=lambda tag: hmac.new(seed.encode(), tag.encode(),
                                                         hashlib.sha256).hexdigest())
    return sorted(ranked[:size])


def _category(item) -> str:
    return item.kind if item.kind != Kind.WEAPON else (item.iti_category or Kind.WEAPON)


def store_expected(store: Store) -> tuple[list[str], dict[str, int]]:
    """Serialised items in the store (tags) and expected counts by category (lots by rounds)."""
    rows = Item.objects.filter(store=store, state=State.IN_CUSTODY).values_list(
        "short_code", "kind", "iti_category", "quantity")
    population, counts = [], {}
    for code, kind, iti, qty in rows:
        cat = kind if kind != Kind.WEAPON else (iti or Kind.WEAPON)
        counts[cat] = counts.get(cat, 0) + (qty if kind == Kind.AMMUNITION else 1)
        if kind != Kind.AMMUNITION:
            population.append(code)
    return sorted(population), counts


def stock_check_start(*, actor, store: Store, scope: str, client_key) -> StockCheck:
    """Start a check of ``store``; the sample is drawn from the custody stream's head."""
    access.require(actor, Perm.CUSTODY_RECORD, store.site)
    key = _uuid(client_key, "client_key")
    existing = StockCheck.objects.filter(client_key=key).first()
    if existing:
        return existing
    if scope not in StockCheck.Scope.values:
        _check({"scope": [_("Choose weekly or full.")]})
    with transaction.atomic():
        Store.objects.select_for_update().get(pk=store.pk)
        if StockCheck.objects.filter(store=store, status=StockCheck.Status.OPEN).exists():
            raise Conflict(_("A check of this store is already open; finish it first."),
                           code="check_open")
        population, counts = store_expected(store)
        check = StockCheck(site=store.site, short_code=short_code_next(site=store.site),
                           client_key=key, store=store, scope=scope, started_by=actor,
                           population=population, expected_counts=counts)
        entry = ledger_append(stream=stream_of(store.site), kind="stock_check_started",
                              actor=actor, site=store.site,
                              payload={"check": check.short_code, "store": str(store.pk),
                                       "scope": scope, "population": population,
                                       "expected": counts})
        # The seed is the chain head *before* the start entry: fixed by history, unknown in
        # advance, and readable by anyone from the ledger (reference: "seeded from the ledger
        # head").
        check.seed = entry.prev_hash
        check.sample = sample_draw(check.seed, population, scope)
        check.save(force_insert=True)
    return check


def stock_check_rederive(check: StockCheck) -> bool:
    """Re-derive the sample from the ledger alone; True when it is the one that was used."""
    import json

    from mawa.core.models import LedgerEntry

    for entry in LedgerEntry.objects.filter(stream=stream_of(check.site),
                                            kind="stock_check_started").order_by("-seq"):
        payload = json.loads(entry.payload)
        if payload["check"] == check.short_code:
            return sample_draw(entry.prev_hash, payload["population"],
                               payload["scope"]) == check.sample
    return False


def stock_check_scan(*, actor, check: StockCheck, code: str, serial: str = "",
                     quantity=None) -> StockCheckLine:
    """Record that an item was seen (its tag scanned or typed; for sampled items, the serial
    read from the weapon; for lots, the rounds counted)."""
    from mawa.core.ids import short_code_normalise

    access.require(actor, Perm.CUSTODY_RECORD, check.site)
    tag = short_code_normalise(to_ascii_digits(code or "")) or ""
    item = Item.objects.filter(short_code=tag, store=check.store).first() if tag else None
    if item is None:
        raise NotFound(_("No item with this tag is recorded in this store."))
    with transaction.atomic():
        check = StockCheck.objects.select_for_update().get(pk=check.pk)
        if check.status != StockCheck.Status.OPEN:
            raise Conflict(_("This check is closed."), code="check_closed")
        serial_ok = True
        if serial:
            serial_ok = serial_key(serial) == item.serial_key
        qty = _quantity(quantity, "quantity") if quantity not in (None, "") else None
        line, _created = StockCheckLine.objects.update_or_create(
            check_run=check, item=item, defaults={"serial_ok": serial_ok, "quantity": qty})
    return line


def stock_check_close(*, actor, check: StockCheck, counted: dict[str, int]) -> StockCheck:
    """Close a check: compare counts and the sample with the records; every difference opens
    a discrepancy (on the ledger) that must be resolved."""
    access.require(actor, Perm.CUSTODY_RECORD, check.site)
    with transaction.atomic():
        check = StockCheck.objects.select_for_update().select_related("site").get(pk=check.pk)
        if check.status != StockCheck.Status.OPEN:
            return check
        counted = {k: int(v) for k, v in counted.items() if str(v).strip() != ""}
        lines = {line.item.short_code: line for line in check.lines.select_related("item")}
        problems: list[tuple[Item | None, str]] = []
        for cat, expected in check.expected_counts.items():
            got = counted.get(cat)
            if got is not None and got != expected:
                problems.append((None, f"{cat}: {expected} → {got}"))
        sample_items = {i.short_code: i for i in Item.objects.filter(short_code__in=check.sample)}
        for tag in check.sample:
            line = lines.get(tag)
            if line is None:
                problems.append((sample_items.get(tag), f"{tag}: not found"))
            elif not line.serial_ok:
                problems.append((line.item, f"{tag}: serial differs"))
        for line in lines.values():
            if line.quantity is not None and line.item.kind == Kind.AMMUNITION and \
                    line.quantity != line.item.quantity:
                problems.append((line.item, f"{line.item.short_code}: {line.item.quantity} → "
                                 f"{line.quantity}"))
        check.counted, check.status, check.closed_at = counted, StockCheck.Status.CLOSED, \
            timezone.now()
        check.save(update_fields=["counted", "status", "closed_at"])
        seen = [line.item for line in lines.values()]
        for item in Item.objects.select_for_update().select_related("location_site").filter(
                pk__in=[i.pk for i in seen]).order_by("id"):
            _record(actor=actor, site=check.site, kind="stock_checked",
                    data={"check": check.short_code}, lines=[(item, {})])
        for item, description in problems:
            disc = Discrepancy.objects.create(site=check.site,
                                              short_code=short_code_next(site=check.site),
                                              check_run=check, item=item,
                                              description=description[:300])
            if item is not None:
                item = _locked(item)
                _record(actor=actor, site=check.site, kind="discrepancy_reported",
                        data={"check": check.short_code, "discrepancy": disc.short_code},
                        lines=[(item, {})])
        ledger_append(stream=stream_of(check.site), kind="stock_check_closed", actor=actor,
                      site=check.site,
                      payload={"check": check.short_code, "counted": counted,
                               "seen": sorted(lines), "discrepancies": len(problems)})
    return check


def discrepancy_resolve(*, actor, discrepancy: Discrepancy, resolution: str,
                        note: str = "") -> Discrepancy:
    """Resolve a discrepancy: found, loss confirmed (the item becomes missing) or a recording
    error. A loss is reported at once (IDDRS 4.10 §7.3.2)."""
    access.require(actor, Perm.CUSTODY_RECORD, discrepancy.site)
    if resolution not in Discrepancy.Resolution.values:
        _check({"resolution": [_("Choose how the discrepancy was resolved.")]})
    if not (note or "").strip():
        _check({"note": [_("Say what was done.")]})
    with transaction.atomic():
        disc = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        if disc.resolved_at:
            return disc
        disc.resolution, disc.resolution_note = resolution, note.strip()[:300]
        disc.resolved_by, disc.resolved_at = actor, timezone.now()
        disc.save(update_fields=["resolution", "resolution_note", "resolved_by",
                                 "resolved_at"])
        if disc.item_id and resolution == Discrepancy.Resolution.LOSS:
            item = _locked(disc.item)
            if item.state not in derive.TERMINAL:
                _record(actor=actor, site=item.location_site, kind="loss_reported",
                        data={"discrepancy": disc.short_code}, lines=[(item, {})])
        ledger_append(stream=stream_of(disc.site), kind="discrepancy_resolved", actor=actor,
                      site=disc.site, payload={"discrepancy": disc.short_code,
                                               "resolution": resolution})
    return disc


def stock_check_overdue(store: Store, *, now: dt.datetime | None = None) -> list[str]:
    """Which checks are overdue for ``store``: 'weekly' (7 days), 'full' (182 days)."""
    now = now or timezone.now()
    overdue = []
    closed = StockCheck.objects.filter(store=store, status=StockCheck.Status.CLOSED)
    last_any = closed.order_by("-closed_at").values_list("closed_at", flat=True).first()
    last_full = closed.filter(scope=StockCheck.Scope.FULL).order_by("-closed_at").values_list(
        "closed_at", flat=True).first()
    if last_any is None or now - last_any > dt.timedelta(days=7):
        overdue.append("weekly")
    if last_full is None or now - last_full > dt.timedelta(days=182):
        overdue.append("full")
    return overdue
