"""What every custody write shares: the one writer of custody events (``_record``), the
stream name, field errors, serial keys and quantities."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, NoReturn

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.core.changes import ChangeItem, change_applying_now, change_record_many
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import Conflict, ValidationFailed
from mawa.core.ledger import ledger_append
from mawa.core.models import Site
from mawa.core.services import short_code_adopt, short_code_next
from mawa.custody import derive
from mawa.custody.models import (
    CustodyEvent,
    Item,
)

PHOTO_MAX_BYTES = 8 * 1024 * 1024
HOLD_MESSAGE = _("Cannot be disposed: legal hold.")
# who holds an item, as its column takes it (escorts, takers, recipients of a handover)
def item_max_length(name: str) -> int:
    """The length of the item's text column ``name``."""
    field = Item._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


CUSTODIAN_NAME_MAX = item_max_length("custodian_name")


def stream_of(site) -> str:
    return f"custody/{site.code}"


def _check(errors: dict) -> None:
    if errors:
        _refuse(errors)


def _refuse(errors: dict) -> NoReturn:
    """``_check`` of errors known to be there: always raises."""
    raise ValidationFailed(_("Check the highlighted fields."),
                           fields={k: [str(m) for m in v] for k, v in errors.items()})


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


class EventClock:
    """The times of a write's custody events in the custody index: each ledger entry's own
    time here; on a replay, the origin's, in the same order (``times``). ``seen`` is what a
    change carries."""

    def __init__(self, times: list | None = None):
        self.given = [_when(t) for t in times] if times else None
        self.seen: list[dt.datetime] = []

    def at(self, entry) -> dt.datetime:
        if self.given is not None and len(self.given) > len(self.seen):
            at = self.given[len(self.seen)]
        else:
            at = dt.datetime.fromisoformat(entry.ts)
        self.seen.append(at)
        return at


def _record(*, actor, site: Site, kind: str, data: dict, lines: list[tuple[Item, dict]],
            clock: EventClock | None = None):
    """Append one custody event for ``lines`` (item, extra such as qty/new) and project it.

    Call inside the caller's transaction, with the items locked. New items are passed unsaved
    (``new``); they are saved here with their first state. ``clock``: the time of the event
    in the custody index (the entry's, the origin's on a replay).
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
    at = clock.at(entry) if clock is not None else dt.datetime.fromisoformat(entry.ts)
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


def _quantity(value, name: str) -> int:
    try:
        qty = int(to_ascii_digits(str(value)).strip())
    except (TypeError, ValueError):
        qty = 0
    if qty < 1:
        _check({name: [_("A whole number of at least 1.")]})
    return qty


# --- change capture (core.changes): what a post and headquarters both need ----------------

#: namespace of the ids derived on replay from the change being applied
REPLAY_NAMESPACE = uuid.UUID("0b6f2c1e-6a1d-5d0e-9a53-6d61776163b1")

RECEIPT = "custody.receipt"
ITEM = "custody.item"
HANDOVER = "custody.handover"
STOCK_CHECK = "custody.stock_check"
DISCREPANCY = "custody.discrepancy"
STORE = "custody.store"


def _replaying() -> bool:
    """Is this write a change from another node being applied (``core.changes``)?"""
    return change_applying_now() is not None


def _capture(items: list[ChangeItem], *, actor, site: Site) -> None:
    """Record the changes of a custody write in its transaction (absorbed on a replay)."""
    change_record_many(items, actor=actor, site=site)


def _code(site: Site, code: str = "") -> str:
    """A new record's short code: the origin's on a replay (``code``), else the next one."""
    return short_code_adopt(site=site, code=code) if code else short_code_next(site=site)


def _when(at: Any = None) -> dt.datetime:
    """The time of a write: the origin's on a replay (a datetime or its ISO text), else now."""
    if at is None:
        return timezone.now()
    return at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))


def _created_at(model, pk, at: dt.datetime | None) -> None:
    """On a replay, the record keeps its origin's creation time (``auto_now_add`` took now)."""
    if at is not None:
        model.objects.filter(pk=pk).update(created_at=at)
