"""Custody events recorded from the item page and the API: moves, seals, dispatch and
receipt, access, trace checks, deactivation and the dispositions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict
from mawa.core.ids import client_key_parse
from mawa.core.models import Site
from mawa.custody import derive
from mawa.custody.models import (
    CustodyEvent,
    Item,
    Kind,
    MarkingIntegrity,
    Store,
)
from mawa.custody.services._common import (
    CUSTODIAN_NAME_MAX,
    HOLD_MESSAGE,
    ITEM,
    EventClock,
    _capture,
    _check,
    _locked,
    _not_terminal,
    _quantity,
    _record,
    _refuse,
    _site_by_code,
    _when,
    item_max_length,
)
from mawa.custody.services.lots import _split_locked


def _text(data: dict, name: str, limit: int = 200) -> str:
    return str(data.get(name) or "").strip()[:limit]


# Some texts of an event become columns of the item: escort, taker and recipient its custodian
# name, bay, rack and seal their own. They are cut to those columns' lengths (PostgreSQL
# refuses a longer value where SQLite would keep it), as the other texts are cut to 200.
_EVENT_TEXT_LIMITS = {"escort": CUSTODIAN_NAME_MAX, "taken_by": CUSTODIAN_NAME_MAX,
                      "recipient": CUSTODIAN_NAME_MAX,
                      **{k: item_max_length(k) for k in ("bay", "rack", "seal")}}


def item_event_record(*, actor, item: Item, kind: str, data: dict, times=None,
                      split_ids: dict | None = None) -> Item:
    """Record one custody event on an item (moves, seals, dispatch and receipt, access,
    trace checks, deactivation and the dispositions). Refused with a clear message when the
    item's state, a legal hold, its markings or the quantities do not allow it.

    ``times`` and ``split_ids`` (the id, code and key of the lot a partial destruction splits
    off): the origin's when a change from another node is replayed."""
    spec = derive.KINDS.get(kind)
    if spec is None or not spec.manual:
        _refuse({"kind": [_("Choose an event.")]})
    perm = Perm.CUSTODY_DISPOSE if spec.disposition else Perm.CUSTODY_RECORD
    # the event's texts, and the quantity of a partial destruction
    clean: dict[str, Any] = {k: _text(data, k, _EVENT_TEXT_LIMITS.get(k, 200))
             for k in ("to_site", "escort", "store", "bay", "rack", "taken_by", "purpose",
                       "seal", "method", "plan", "monitor", "certified_by", "recipient",
                       "document", "note")}
    clean = {k: v for k, v in clean.items() if v}
    errors = {name: [_("This is required for this event.")]
              for name in derive.REQUIRED_DATA.get(kind, ()) if not clean.get(name)}
    _check(errors)
    clock = EventClock(times)
    split: dict | None = None
    with transaction.atomic():
        item = _locked(item)
        acted_on = item.pk
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
                split = split_ids or {"id": None, "code": "", "client_key": uuid.uuid4(),
                                      "at": None}
                split_at = _when(split.get("at"))
                (item,) = _split_locked(actor, item, [qty], [split["client_key"]],
                                        minted=[(split["id"], split["code"])], at=split_at,
                                        clock=clock)
                split = {"id": item.pk, "code": item.short_code,
                         "client_key": item.client_key, "at": split_at}
        if kind == "stored":
            store = Store.objects.filter(pk=client_key_parse(clean["store"], "store"), site=site,
                                         is_active=True).first()
            if store is None:
                _refuse({"store": [_("Choose a store at the site where the item is.")]})
            clean["store"] = str(store.pk)
        if kind == "received" and clean.get("store"):
            store = Store.objects.filter(pk=client_key_parse(clean["store"], "store"),
                                         site=site).first()
            if store is None:
                _refuse({"store": [_("Choose a store at the site where the item is.")]})
            clean["store"] = str(store.pk)
        if kind == "dispatched":
            dest = Site.objects.filter(code=clean["to_site"].upper(), is_active=True).first()
            if dest is None or dest.pk == site.pk:
                _refuse({"to_site": [_("Choose another site as destination.")]})
            clean["to_site"] = dest.code
        _record(actor=actor, site=site, kind=kind, data=clean, lines=[(item, {})], clock=clock)
        _capture([ChangeItem(ITEM, acted_on, ChangeOp.ACTION, {
            "action": "event", "kind": kind, "data": clean, "times": clock.seen, "split": split})],
            actor=actor, site=site)
    return item


def _dispatch_destination(item: Item) -> Site:
    event = (CustodyEvent.objects.filter(item=item, kind="dispatched")
             .select_related("ledger_entry").order_by("-item_seq").first())
    if event is None:
        raise Conflict(_("This item was not dispatched."), code="wrong_state")
    return _site_by_code(json.loads(event.ledger_entry.payload)["data"]["to_site"])


def items_dispatch(*, actor, items: list[Item], to_site: str, escort: str) -> int:
    """Dispatch several items at once (one event per item, one transaction)."""
    with transaction.atomic():
        for item in items:
            item_event_record(actor=actor, item=item, kind="dispatched",
                              data={"to_site": to_site, "escort": escort})
    return len(items)
