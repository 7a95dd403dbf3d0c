"""Corrections: a new event naming each field's old and new value; history is never
rewritten."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.custody.models import (
    Item,
)
from mawa.custody.services._common import (
    ITEM,
    EventClock,
    _capture,
    _check,
    _locked,
    _record,
    serial_key,
)

CORRECTABLE = ("make", "model", "variant", "serial_number", "parts_serials", "calibre",
               "country_of_manufacture", "year_of_manufacture", "markings", "marking_location",
               "marking_integrity", "condition", "lot_number", "headstamps", "chassis_number",
               "engine_number", "plate", "tactical_markings", "iti_category",
               "unroca_category")


def item_correct(*, actor, item: Item, changes: dict, reason: str, times=None) -> Item:
    """Correct what was recorded about an item. The surrender event and the signed receipt
    stay as they were; a correction event names each field's old and new value. ``times``:
    the origin's event time when a change from another node is replayed."""
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
        clock = EventClock(times)
        _record(actor=actor, site=item.location_site, kind="correction",
                data={"reason": reason[:300], "changes": diff}, lines=[(item, {})], clock=clock)
        _capture([ChangeItem(ITEM, item.pk, ChangeOp.ACTION, {
            "action": "correct", "changes": {k: new for k, (_old, new) in diff.items()},
            "reason": reason, "times": clock.seen})], actor=actor, site=item.location_site)
    return item
