"""Ammunition lots: split and merge, quantities conserved."""

from __future__ import annotations

import uuid

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
    Item,
    Kind,
    State,
)
from mawa.custody.services._common import (
    HOLD_MESSAGE,
    ITEM,
    EventClock,
    _capture,
    _check,
    _code,
    _created_at,
    _locked,
    _not_terminal,
    _quantity,
    _record,
    _when,
)


def _new_lot(parent: Item, *, site: Site, client_key, quantity: int,
             surrendered_at: Site | None = None, record_id=None, code: str = "") -> Item:
    """A new lot at ``site`` (where it is now). ``surrendered_at``: its site of surrender
    (a split lot's child keeps its parent's: it is not a new surrender); else ``site``."""
    copy = {f.name: getattr(parent, f.name) for f in Item._meta.concrete_fields
            if f.name not in ("id", "short_code", "client_key", "created_at", "receipt",
                              "parent", "custodian", "location_site", "store", "site",
                              "mounted_on", "catalogue")}
    copy["quantity"] = quantity
    lot = Item(**copy, site=surrendered_at or site, short_code=_code(site, code),
               client_key=client_key, parent=parent, catalogue_id=parent.catalogue_id,
               location_site=site)
    if record_id is not None:
        lot.id = record_id
    return lot


def lot_split(*, actor, item: Item, parts: list, client_key, ids: list | None = None,
              at=None, times=None) -> list[Item]:
    """Split an ammunition lot into new lots of ``parts`` rounds; the rest stays in the parent.

    The parts must not add up to more than the lot holds (quantities are conserved: the one
    entry records −sum on the parent and +part on each child). Idempotent on ``client_key``:
    child ``i`` gets the key derived from it. ``ids`` (each child's id and code), ``at`` and
    ``times``: the origin's when a change from another node is replayed.
    """
    key = client_key_parse(client_key)
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
        when, clock = _when(at), EventClock(times)
        children = _split_locked(actor, item, quantities, keys, minted=ids, at=when,
                                 clock=clock)
        _capture([ChangeItem(ITEM, item.pk, ChangeOp.ACTION, {
            "action": "split", "parts": quantities, "client_key": key,
            "ids": [[c.pk, c.short_code] for c in children], "at": when,
            "times": clock.seen})],
            actor=actor, site=item.location_site)
    return children


def _split_locked(actor, item: Item, quantities: list[int], keys: list,
                  minted: list | None = None, at=None,
                  clock: EventClock | None = None) -> list[Item]:
    """Split ``item`` (locked); ``minted``: each child's (id, code) given by the origin."""
    site = item.location_site
    minted = minted or [(None, "")] * len(quantities)
    children = [_new_lot(item, site=site, client_key=k, quantity=q, surrendered_at=item.site,
                         record_id=m[0], code=m[1])
                for k, q, m in zip(keys, quantities, minted, strict=True)]
    lines = [(item, {"qty": -sum(quantities)})] + [
        (c, {"new": True, "qty": q}) for c, q in zip(children, quantities, strict=True)]
    _record(actor=actor, site=site, kind="split", lines=lines,
            data={"parent": item.short_code, "store": str(item.store_id or ""),
                  "bay": item.bay, "rack": item.rack}, clock=clock)
    for child in children:
        if at is not None:
            child.created_at = at
            _created_at(Item, child.pk, at)
    return children


def lot_merge(*, actor, items: list[Item], client_key, record_id=None, code: str = "",
              at=None, times=None) -> Item:
    """Merge ammunition lots of one calibre and type, at one place, surrendered at one site,
    into a new lot (which keeps that site of surrender). ``record_id``, ``code``, ``at`` and
    ``times``: the origin's when a change from another node is replayed."""
    key = client_key_parse(client_key)
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
            if lot.site_id != first.site_id:
                # the merged lot keeps its lots' site of surrender, as a split child does: the
                # reconciliation counts rounds where they were handed in, never where relotted
                _check({"items": [_("Lots surrendered at different sites cannot be merged.")]})
        total = sum(lot.quantity for lot in locked)
        site = first.location_site
        target = _new_lot(first, site=site, client_key=key, quantity=total,
                          surrendered_at=first.site, record_id=record_id, code=code)
        lines = [(lot, {"qty": -lot.quantity}) for lot in locked] + [
            (target, {"new": True, "qty": total})]
        when, clock = _when(at), EventClock(times)
        _record(actor=actor, site=site, kind="merged", lines=lines,
                data={"sources": [lot.short_code for lot in locked],
                      "store": str(first.store_id or ""), "bay": first.bay, "rack": first.rack},
                clock=clock)
        target.created_at = when
        _created_at(Item, target.pk, when)
        _capture([ChangeItem(ITEM, target.pk, ChangeOp.ACTION, {
            "action": "merge", "sources": [lot.pk for lot in locked], "client_key": key,
            "code": target.short_code, "at": when, "times": clock.seen})], actor=actor, site=site)
    return target
