"""Appliers of custody changes made on another node (``core.changes``).

Each applier replays a change through the same service that made it at the origin, with the
origin's ids, short codes and times (``fields`` carries them): surrender receipts and their
items, stores, custody events, corrections, lot splits and merges, handovers to the country
of origin, stock checks and their discrepancies. Registered in ``CustodyConfig.ready()``. A
weapon serial already held here for another item raises ``core.changes.UniqueBroken`` (from
``item_surrender``): a review item, not a refusal.

Legal holds do not travel: they are set and lifted by investigators, and their reason belongs
to the accountability compartment, which never goes to a post.
"""

from __future__ import annotations

from typing import Any

from mawa.core.changes import change_applier_register
from mawa.core.changes_models import Change, ChangeOp
from mawa.core.models import Site
from mawa.custody import services
from mawa.custody.models import Discrepancy, Item, Receipt, StockCheck, Store
from mawa.custody.services._common import (
    DISCREPANCY,
    HANDOVER,
    ITEM,
    RECEIPT,
    STOCK_CHECK,
    STORE,
)
from mawa.custody.services.surrender import item_input_from
from mawa.reception.models import ArrivalGroup, Person


def _site(code: str) -> Site:
    return Site.objects.get(code=code)


def apply_receipt_open(change: Change, actor: Any) -> None:
    f = change.fields
    services.receipt_open(
        actor=actor, site=_site(f["site"]), client_key=f["client_key"],
        person=Person.objects.get(pk=f["person"]) if f.get("person") else None,
        group=ArrivalGroup.objects.get(pk=f["group"]) if f.get("group") else None,
        witness=f.get("witness", ""), record_id=change.record_id, code=f["code"], at=f["at"])


def apply_receipt_issue(change: Change, actor: Any) -> None:
    f = change.fields
    services.receipt_issue(actor=actor, receipt=Receipt.objects.get(pk=change.record_id),
                           signed=f["signed"], at=f["at"])


def apply_item_surrender(change: Change, actor: Any) -> None:
    f = change.fields
    # a duplicate serial decided "take it in" (``_resolves``) is flagged as a local one is
    origin_duplicate = True if f.get("_resolves") else bool(f.get("serial_duplicate"))
    services.item_surrender(
        actor=actor, receipt=Receipt.objects.get(pk=f["receipt"]), client_key=f["client_key"],
        data=item_input_from(f["data"]), record_id=change.record_id, code=f["code"],
        at=f["at"], times=f["times"], origin_duplicate=origin_duplicate)


def _item(change: Change) -> Item:
    return Item.objects.get(pk=change.record_id)


def apply_item_event(change: Change, actor: Any) -> None:
    f = change.fields
    services.item_event_record(actor=actor, item=_item(change), kind=f["kind"], data=f["data"],
                               times=f["times"], split_ids=f.get("split"))


def apply_item_correct(change: Change, actor: Any) -> None:
    f = change.fields
    services.item_correct(actor=actor, item=_item(change), changes=f["changes"],
                          reason=f["reason"], times=f["times"])


def apply_lot_split(change: Change, actor: Any) -> None:
    f = change.fields
    services.lot_split(actor=actor, item=_item(change), parts=f["parts"],
                       client_key=f["client_key"], ids=f["ids"], at=f["at"],
                       times=f["times"])


def apply_lot_merge(change: Change, actor: Any) -> None:
    f = change.fields
    items = list(Item.objects.filter(pk__in=f["sources"]))
    services.lot_merge(actor=actor, items=items, client_key=f["client_key"],
                       record_id=change.record_id, code=f["code"], at=f["at"],
                       times=f["times"])


def apply_handover(change: Change, actor: Any) -> None:
    f = change.fields
    services.handover_return(
        actor=actor, items=list(Item.objects.filter(pk__in=f["items"])),
        client_key=f["client_key"], recipient=f["recipient"], document=f["document"],
        witness=f.get("witness", ""), conditions=f.get("conditions"), notes=f.get("notes"),
        delegation=f.get("delegation", ()), record_id=change.record_id, code=f["code"],
        at=f["at"], times=f["times"])


def apply_store_create(change: Change, actor: Any) -> None:
    f = change.fields
    services.store_create(actor=actor, site=_site(f["site"]), name=f["name"], kind=f["kind"],
                          name_ar=f.get("name_ar", ""), record_id=change.record_id,
                          code=f["code"], at=f["at"])


def apply_stock_check_start(change: Change, actor: Any) -> None:
    f = change.fields
    services.stock_check_start(actor=actor, store=Store.objects.get(pk=f["store"]),
                               scope=f["scope"], client_key=f["client_key"],
                               record_id=change.record_id, code=f["code"], at=f["at"],
                               seed=f["seed"])


def apply_stock_check_scan(change: Change, actor: Any) -> None:
    f = change.fields
    services.stock_check_scan(actor=actor, check=StockCheck.objects.get(pk=change.record_id),
                              code=f["code"], serial=f.get("serial", ""),
                              quantity=f.get("quantity"))


def apply_stock_check_close(change: Change, actor: Any) -> None:
    f = change.fields
    services.stock_check_close(actor=actor, check=StockCheck.objects.get(pk=change.record_id),
                               counted=f["counted"], at=f["at"], minted=f["minted"],
                               times=f["times"])


def apply_discrepancy_resolve(change: Change, actor: Any) -> None:
    f = change.fields
    services.discrepancy_resolve(
        actor=actor, discrepancy=Discrepancy.objects.get(pk=change.record_id),
        resolution=f["resolution"], note=f["note"], at=f["at"], times=f["times"])


def appliers_register() -> None:
    """Register every custody applier (``CustodyConfig.ready``)."""
    for record_type, op, applier in (
            (RECEIPT, ChangeOp.CREATE, apply_receipt_open),
            (RECEIPT, "action:issue", apply_receipt_issue),
            (ITEM, ChangeOp.CREATE, apply_item_surrender),
            (ITEM, "action:event", apply_item_event),
            (ITEM, "action:correct", apply_item_correct),
            (ITEM, "action:split", apply_lot_split),
            (ITEM, "action:merge", apply_lot_merge),
            (HANDOVER, ChangeOp.CREATE, apply_handover),
            (STORE, ChangeOp.CREATE, apply_store_create),
            (STOCK_CHECK, ChangeOp.CREATE, apply_stock_check_start),
            (STOCK_CHECK, "action:scan", apply_stock_check_scan),
            (STOCK_CHECK, "action:close", apply_stock_check_close),
            (DISCREPANCY, "action:resolve", apply_discrepancy_resolve)):
        change_applier_register(record_type, op, applier)

