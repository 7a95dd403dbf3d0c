"""Change capture of custody (issue 17): each write records the changes another node needs,
and replaying them through the same services (``mawa.custody.replay``) makes the same records:
ids, short codes, values, times and custody events."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mawa.accounts.models import User
from mawa.core.changes import UniqueBroken, change_applier, change_applying
from mawa.core.changes_models import Change, ChangeOp, RecordHead
from mawa.core.models import LedgerEntry, ShortCodeCounter
from mawa.custody import services
from mawa.custody.models import (
    CustodyEvent,
    Discrepancy,
    HandoverBatch,
    HandoverLine,
    Item,
    Kind,
    LegalHold,
    Receipt,
    StockCheck,
    StockCheckLine,
)
from mawa.custody.services import ItemInput

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def snapshot() -> dict:
    """Every custody record as values (the custody index without its row ids), and the
    payloads of the custody streams."""
    return {
        "receipts": list(Receipt.objects.order_by("id").values()),
        "items": list(Item.objects.order_by("id").values()),
        "events": list(CustodyEvent.objects.order_by("item_id", "item_seq").values(
            "item_id", "kind", "item_seq", "at", "from_state", "to_state", "from_quantity",
            "to_quantity")),
        "holds": list(LegalHold.objects.order_by("id").values()),
        "batches": list(HandoverBatch.objects.order_by("id").values(
            "id", "short_code", "site", "recipient", "document", "witness", "handed_over_at",
            "handed_over_by", "created_at")),
        "lines": list(HandoverLine.objects.order_by("item_id").values(
            "batch_id", "item_id", "quantity", "condition_at_surrender", "condition_at_return",
            "note")),
        "checks": list(StockCheck.objects.order_by("id").values(
            "id", "short_code", "store", "scope", "status", "population", "sample",
            "expected_counts", "counted", "closed_at", "created_at", "started_by")),
        "check_lines": list(StockCheckLine.objects.order_by("item_id").values(
            "check_run_id", "item_id", "serial_ok", "quantity")),
        "discrepancies": list(Discrepancy.objects.order_by("id").values()),
        "ledger": [(e.stream, e.kind, e.payload) for e in LedgerEntry.objects.filter(
            stream__startswith="custody/").order_by("id")],
    }


def replay(changes: list[Change]) -> None:
    """Apply ``changes`` as the sync engine does: each through its applier, as its actor."""
    for change in changes:
        applier = change_applier(change)
        assert applier is not None, (change.record_type, change.op, change.fields.get("action"))
        with transaction.atomic(), change_applying(change):
            applier(change, User.objects.get(username=change.actor))


def round_trip(write) -> list[Change]:
    """Run ``write`` in a transaction that is rolled back, keeping its changes in memory;
    replay them; the records must come back the same. Returns the changes."""
    seen = set(Change.objects.values_list("id", flat=True))
    kept: dict = {}
    with pytest.raises(_Rollback), transaction.atomic():
        write()
        kept["changes"] = list(Change.objects.exclude(id__in=seen).order_by("seq"))
        kept["records"] = snapshot()
        raise _Rollback
    changes = kept["changes"]
    assert changes
    replay(changes)
    assert snapshot() == kept["records"]
    # the records replayed take the incoming changes as their version; nothing new is minted
    assert not Change.objects.exclude(id__in=seen).exists()
    for change in changes:
        assert RecordHead.objects.filter(record_type=change.record_type,
                                         record_id=change.record_id).exists()
    return changes


def ops(changes) -> list[tuple]:
    return [(c.record_type, c.op, c.fields.get("action", "")) for c in changes]


# --- surrender ---------------------------------------------------------------------------

def _surrender_all(officer, site, person, akm, serial="AK-100200"):
    receipt = services.receipt_open(actor=officer, site=site, client_key=uuid.uuid4(),
                                    person=person, witness="Sgt. Aziz")
    services.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                            data=ItemInput(catalogue=akm, serial_number=serial,
                                           cleared_by="Cpl. Salem", verified_by="Lt. Nabil"))
    services.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                            data=ItemInput(kind=Kind.AMMUNITION, calibre="7.62×39 mm",
                                           ammunition_type="ball", quantity=600))
    services.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                            data=ItemInput(accepted=False, refusal_reason="unsafe", catalogue=akm,
                                           serial_number="AK-9"))
    return services.receipt_issue(actor=officer, receipt=receipt)


def test_a_surrender_captures_the_receipt_each_item_and_the_issue(officer, sites, person, akm):
    before = set(Change.objects.values_list("id", flat=True))
    receipt = _surrender_all(officer, sites["RHM"], person, akm)
    changes = list(Change.objects.exclude(id__in=before).filter(
        record_type__startswith="custody.").order_by("seq"))
    assert ops(changes) == [("custody.receipt", ChangeOp.CREATE, ""),
                            ("custody.item", ChangeOp.CREATE, ""),
                            ("custody.item", ChangeOp.CREATE, ""),
                            ("custody.item", ChangeOp.CREATE, ""),
                            ("custody.receipt", ChangeOp.ACTION, "issue")]
    assert changes[0].record_id == receipt.id and changes[0].fields["code"] == receipt.short_code
    assert changes[1].fields["data"]["serial_number"] == "AK-100200"
    assert changes[-1].base == changes[0].id  # the issue was made on the opened receipt
    assert all(c.actor == officer.username and c.site == "RHM" for c in changes)


def test_a_surrender_replays_to_the_same_records(officer, sites, person, akm):
    changes = round_trip(lambda: _surrender_all(officer, sites["RHM"], person, akm))
    # the codes taken from the origin move this node's counter past them
    items = [c for c in changes if c.record_type == "custody.item" and c.op == ChangeOp.CREATE]
    last = max(int(c.fields["code"].split("-")[1]) for c in items)
    assert ShortCodeCounter.objects.get(site=sites["RHM"]).last_number >= last


def test_replaying_twice_changes_nothing(officer, sites, person, akm):
    kept = {}

    def write():
        _surrender_all(officer, sites["RHM"], person, akm)

    seen = set(Change.objects.values_list("id", flat=True))
    with pytest.raises(_Rollback), transaction.atomic():
        write()
        kept["changes"] = list(Change.objects.exclude(id__in=seen).order_by("seq"))
        raise _Rollback
    replay(kept["changes"])
    first = snapshot()
    replay(kept["changes"][:-1])  # the creates are idempotent on their client keys
    assert snapshot() == first


def test_a_weapon_serial_taken_in_on_both_sides_is_a_review_item(officer, sites, person, akm,
                                                                 receipt):
    kept = {}
    seen = set(Change.objects.values_list("id", flat=True))
    with pytest.raises(_Rollback), transaction.atomic():
        _surrender_all(officer, sites["RHM"], person, akm, serial="AK 777-1")
        kept["changes"] = list(Change.objects.exclude(id__in=seen).order_by("seq"))
        raise _Rollback
    # meanwhile, here, the same serial was taken in on another receipt
    services.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                            data=ItemInput(catalogue=akm, serial_number="AK7771",
                                           cleared_by="a", verified_by="b"))
    opened, weapon = kept["changes"][:2]
    replay([opened])
    with pytest.raises(UniqueBroken):
        replay([weapon])
    assert not Item.objects.filter(pk=weapon.record_id).exists()
    # decided "take it in" at review: the item is flagged as a local duplicate is
    weapon.fields = {**weapon.fields, "_resolves": [str(weapon.id)]}
    replay([weapon])
    assert Item.objects.get(pk=weapon.record_id).serial_duplicate


def test_a_serial_the_origin_already_flagged_is_not_a_review_item(officer, sites, person, akm,
                                                                  receipt):
    services.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                            data=ItemInput(catalogue=akm, serial_number="AK-55",
                                           cleared_by="a", verified_by="b"))
    round_trip(lambda: _surrender_all(officer, sites["RHM"], person, akm, serial="AK55"))


# --- custody events, corrections, lots, handovers, stock checks --------------------------

def _captured(write):
    """``write``'s custody changes, kept in memory from a transaction rolled back."""
    seen = set(Change.objects.values_list("id", flat=True))
    kept: dict = {}
    with pytest.raises(_Rollback), transaction.atomic():
        write()
        kept["changes"] = list(Change.objects.exclude(id__in=seen).order_by("seq"))
        raise _Rollback
    return kept["changes"]


def test_moves_between_stores_and_sites_replay(officer, surrender, gate_store, store):
    item = surrender()

    def write():
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk), "bay": "B1"})
        services.items_dispatch(actor=officer, items=[item], to_site="DEP", escort="Convoy 3")
        services.item_event_record(actor=officer, item=item, kind="received",
                                   data={"store": str(store.pk)})

    changes = round_trip(write)
    assert ops(changes) == [("custody.item", ChangeOp.ACTION, "event")] * 3
    assert [c.fields["kind"] for c in changes] == ["stored", "dispatched", "received"]
    assert changes[1].base == changes[0].id and changes[2].base == changes[1].id


def test_a_partial_destruction_splits_off_the_same_lot_on_replay(officer, surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=1000)
    changes = round_trip(lambda: services.item_event_record(
        actor=officer, item=lot, kind="destroyed",
        data={"method": "burning", "plan": "DP-1", "monitor": "Maj. K", "certified_by": "C",
              "quantity": 300}))
    assert changes[0].fields["split"]["code"]


def test_a_correction_replays(officer, surrender):
    item = surrender(serial_number="AK-1")
    changes = round_trip(lambda: services.item_correct(
        actor=officer, item=item, changes={"serial_number": "AK-7", "year_of_manufacture": 1979},
        reason="misread"))
    assert changes[0].fields["changes"] == {"serial_number": "AK-7", "year_of_manufacture": 1979}


def test_lot_split_and_merge_replay(officer, surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=900)

    def write():
        a, b = services.lot_split(actor=officer, item=lot, parts=[100, 200],
                                  client_key=uuid.uuid4())
        services.lot_merge(actor=officer, items=[a, b], client_key=uuid.uuid4())

    changes = round_trip(write)
    assert ops(changes) == [("custody.item", ChangeOp.ACTION, "split"),
                            ("custody.item", ChangeOp.ACTION, "merge")]


def test_a_handover_to_the_country_of_origin_replays(officer, surrender, receipt):
    items = [surrender(), surrender()]
    services.receipt_issue(actor=officer, receipt=receipt)
    changes = round_trip(lambda: services.handover_return(
        actor=officer, items=items, client_key=uuid.uuid4(), recipient="Military attaché",
        document="Agreement 12/2027", delegation=["Col. A"],
        conditions={items[0].short_code: "unserviceable"}, notes={items[1].short_code: "rust"}))
    assert ops(changes) == [("custody.handover", ChangeOp.CREATE, "")]


def test_a_store_and_a_stock_check_with_its_discrepancy_replay(officer, surrender, sites):
    items = [surrender() for _ in range(3)]

    def write():
        shed = services.store_create(actor=officer, site=sites["RHM"], name="Shed 2")
        for item in items:
            services.item_event_record(actor=officer, item=item, kind="stored",
                                       data={"store": str(shed.pk)})
        check = services.stock_check_start(actor=officer, store=shed, scope="full",
                                           client_key=uuid.uuid4())
        services.stock_check_scan(actor=officer, check=check, code=items[0].short_code,
                                  serial=items[0].serial_number)
        services.stock_check_scan(actor=officer, check=check, code=items[1].short_code,
                                  serial="WRONG")
        check = services.stock_check_close(actor=officer, check=check,
                                           counted={"SA-assault": 2})
        for disc in Discrepancy.objects.filter(check_run=check, item__isnull=False):
            services.discrepancy_resolve(actor=officer, discrepancy=disc,
                                         resolution="loss", note="not found")

    changes = round_trip(write)
    kinds = ops(changes)
    assert kinds[0] == ("custody.store", ChangeOp.CREATE, "")
    assert ("custody.stock_check", ChangeOp.ACTION, "close") in kinds
    assert kinds[-1] == ("custody.discrepancy", ChangeOp.ACTION, "resolve")


def test_a_surrender_and_its_replay_take_a_bounded_number_of_queries(officer, sites, person,
                                                                       akm, receipt):
    """Its four custody events are written together: three ledger statements, one item, one
    index statement — a post's 4,000 items replay at HQ one change each."""
    data = ItemInput(catalogue=akm, serial_number="AK-31", cleared_by="a", verified_by="b")
    changes = _captured(lambda: services.item_surrender(actor=officer, receipt=receipt,
                                                        client_key=uuid.uuid4(), data=data))
    (change,) = changes
    actor = User.objects.get(username=change.actor)
    applier = change_applier(change)
    with CaptureQueriesContext(connection) as replayed, change_applying(change):
        applier(change, actor)
    with CaptureQueriesContext(connection) as local:
        services.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                                data=ItemInput(catalogue=akm, serial_number="AK-32",
                                               cleared_by="a", verified_by="b"))
    # four events would take four times the ledger's and the index's statements one by one
    assert len(replayed) <= 28 and len(local) <= 31
