"""What every custody write shares: the one writer of custody events (``_record``), the
stream name, field errors, serial keys and quantities."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.core.changes import (
    ChangeItem,
    change_applying_now,
    change_record_many,
    replay_code,
    replay_created_at,
    replay_time,
)
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import Conflict, ValidationFailed
from mawa.core.ledger import LedgerItem, ledger_append_entries
from mawa.core.models import Site
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


@dataclass
class Event:
    """One custody event of a write: its kind, its data, and its lines (item, extra such as
    qty/new) — what ``_record_many`` appends and projects."""

    kind: str
    data: dict
    lines: list[tuple[Item, dict]]


_PROJECTED = ["state", "custodian", "custodian_name", "location_site", "store", "bay", "rack",
              "quantity", "on_hold", "seal", "deactivated", "remarked", "item_seq"]


def _record_many(*, actor, site: Site, events: list[Event], clock: EventClock | None = None):
    """Append the custody ``events`` (in order, one ledger entry each) and project them.

    Call inside the caller's transaction, with the items locked. New items are passed unsaved
    (``new`` in their first line); each item is saved once, with the state its last event
    gives. ``clock``: the time of each event in the custody index (the entry's, the origin's
    on a replay). Three statements for the ledger, one per item, one for the index, however
    many events (a surrender's four). Returns the entries."""
    actor_id = str(actor.pk) if hasattr(actor, "pk") else str(actor)
    items: dict = {}  # pk → (item, new)
    rows: list[tuple[int, Item, dict | None, dict]] = []  # event no., item, before, after
    ledger: list[LedgerItem] = []
    for n, event in enumerate(events):
        entry_lines = []
        for item, extra in event.lines:
            new = bool(extra.get("new"))
            before = None if new else _state_of(item)
            after = derive.apply(before, event.kind, event.data, extra, actor=actor_id,
                                 site=site.code)
            _project(item, after)
            entry_lines.append({"id": str(item.pk), "n": after["n"], **extra, "after": after})
            rows.append((n, item, before, dict(after)))
            items.setdefault(item.pk, (item, new))
        ledger.append(LedgerItem(stream_of(site), event.kind,
                                 {"data": event.data, "items": entry_lines}, actor, site))
    entries = ledger_append_entries(ledger)
    for item, new in items.values():
        if new:
            item.save(force_insert=True)
        else:
            item.save(update_fields=_PROJECTED)
    # the index rows carry the entry's time and each item's state and quantity before and
    # after (the situation report reads a past day's register from them)
    times = [clock.at(e) if clock is not None else dt.datetime.fromisoformat(e.ts)
             for e in entries]
    CustodyEvent.objects.bulk_create([
        CustodyEvent(item=item, ledger_entry=entries[n], kind=events[n].kind,
                     item_seq=after["n"], at=times[n],
                     from_state=before["state"] if before else None, to_state=after["state"],
                     from_quantity=before["quantity"] if before else None,
                     to_quantity=after["quantity"])
        for n, item, before, after in rows])
    return entries


def _record(*, actor, site: Site, kind: str, data: dict, lines: list[tuple[Item, dict]],
            clock: EventClock | None = None):
    """One custody event: ``_record_many`` of one. Returns its entry."""
    return _record_many(actor=actor, site=site, events=[Event(kind, data, lines)],
                        clock=clock)[0]


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


# the origin's code, time and creation time on a replay (core.changes), under the names the
# custody services use
_code = replay_code
_when = replay_time
_created_at = replay_created_at
