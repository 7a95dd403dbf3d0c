"""Custody events, derived state and the invariants of reference/custody.md."""

import json
import uuid

import pytest
from django.db import connection
from django.utils import translation

from mawa.accounts.roles import Role
from mawa.core.errors import Conflict, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.custody import derive, services
from mawa.custody.models import Item, Kind, State
from mawa.custody.verify import custody_verify

pytestmark = pytest.mark.django_db


def move_to_depot(officer, item, store):
    services.item_event_record(actor=officer, item=item, kind="dispatched",
                               data={"to_site": "DEP", "escort": "Convoy 3"})
    services.item_event_record(actor=officer, item=item, kind="received",
                               data={"store": str(store.pk)})
    item.refresh_from_db()
    return item


def test_dispatch_and_receipt_move_custodian_and_location(officer, surrender, store, depot):
    item = surrender()
    services.item_event_record(actor=officer, item=item, kind="dispatched",
                               data={"to_site": "DEP", "escort": "Convoy 3"})
    item.refresh_from_db()
    assert item.state == State.IN_TRANSIT and item.custodian_name == "Convoy 3"
    services.item_event_record(actor=officer, item=item, kind="received",
                               data={"store": str(store.pk)})
    item.refresh_from_db()
    assert (item.state, item.location_site, item.store) == (State.IN_CUSTODY, depot, store)
    assert custody_verify().ok


def test_one_custodian_and_location_at_a_time(officer, surrender, store):
    item = surrender()
    services.item_event_record(actor=officer, item=item, kind="dispatched",
                               data={"to_site": "DEP", "escort": "Convoy 3"})
    with pytest.raises(Conflict):  # cannot be dispatched twice
        services.item_event_record(actor=officer, item=item, kind="dispatched",
                                   data={"to_site": "NUR", "escort": "Other"})
    with pytest.raises(Conflict):  # nor taken out while in transit
        services.item_event_record(actor=officer, item=item, kind="access_out",
                                   data={"taken_by": "x", "purpose": "y"})
    services.item_event_record(actor=officer, item=item, kind="received", data={})
    with pytest.raises(Conflict):  # nor received twice
        services.item_event_record(actor=officer, item=item, kind="received", data={})


def test_a_store_must_be_at_the_items_site(officer, surrender, store):
    item = surrender()  # at RHM; the store is at DEP
    with pytest.raises(ValidationFailed) as exc:
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(store.pk)})
    assert "store" in exc.value.fields


def test_required_details_are_asked_for(officer, surrender):
    item = surrender()
    with pytest.raises(ValidationFailed) as exc:
        services.item_event_record(actor=officer, item=item, kind="destroyed", data={})
    assert set(exc.value.fields) == {"method", "plan", "monitor"}


def test_only_disposition_events_take_an_item_out_of_custody():
    for kind in derive.KINDS:
        s = derive.apply(derive.apply(None, "surrendered", {}, {"qty": 1}, actor="u", site="RHM"),
                         kind, {"recipient": "r", "escort": "e", "taken_by": "t", "seal": "s",
                                "store": "x"}, {}, actor="u", site="RHM")
        if s["state"] in derive.LEFT_CUSTODY:
            assert derive.KINDS[kind].disposition, kind


def test_nothing_more_after_disposal(officer, surrender):
    item = surrender()
    services.item_event_record(actor=officer, item=item, kind="destroyed",
                               data={"method": "cut", "plan": "P-1", "monitor": "ICRC"})
    with pytest.raises(Conflict):
        services.item_event_record(actor=officer, item=item, kind="sealed", data={"seal": "1"})


def test_legal_hold_blocks_every_disposition(officer, investigator, surrender):
    item = surrender()
    hold = services.legal_hold_set(actor=investigator, item=item, reason="Allegation A-17")
    for kind, data in [("destroyed", {"method": "m", "plan": "p", "monitor": "x"}),
                       ("transferred", {"recipient": "MoD", "document": "D1"}),
                       ("returned", {"recipient": "Embassy", "document": "D2"}),
                       ("deactivated", {"method": "m", "certified_by": "c"})]:
        with translation.override("en"):
            with pytest.raises(Conflict) as exc:
                services.item_event_record(actor=officer, item=item, kind=kind, data=data)
            assert exc.value.code == "legal_hold"
            assert "legal hold" in str(exc.value.message).lower()
        assert "A-17" not in str(exc.value.message)
    services.legal_hold_lift(actor=investigator, hold=hold)
    services.item_event_record(actor=officer, item=item, kind="returned",
                               data={"recipient": "Embassy", "document": "D2"})
    item.refresh_from_db()
    assert item.state == State.RETURNED and item.left_custody


def test_only_investigators_set_holds_and_the_reason_stays_with_them(
        officer, investigator, surrender, client_for, users):
    item = surrender()
    with pytest.raises(NotFound):
        services.legal_hold_set(actor=officer, item=item, reason="x")
    with pytest.raises(NotFound):
        services.legal_hold_set(actor=users[Role.ADMINISTRATOR], item=item, reason="x")
    services.legal_hold_set(actor=investigator, item=item, reason="Allegation A-17 secret")
    assert not LedgerEntry.objects.filter(payload__contains="A-17").exists()
    page = client_for(officer).get(f"/custody/items/{item.short_code}/").content.decode()
    assert "A-17" not in page and "data-testid=\"hold\"" in page
    api = client_for(officer).post(f"/api/custody/items/{item.short_code}/holds",
                                   {"reason": "x"}, content_type="application/json")
    assert api.status_code == 404
    page = client_for(investigator).get(f"/custody/items/{item.short_code}/").content.decode()
    assert "A-17" in page


def test_a_held_lot_cannot_be_split(officer, investigator, surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=100)
    services.legal_hold_set(actor=investigator, item=lot, reason="evidence")
    with pytest.raises(Conflict):
        services.lot_split(actor=officer, item=lot, parts=[10], client_key=uuid.uuid4())


def family_total(lot):
    ids, frontier = {lot.pk}, [lot.pk]
    while frontier:
        kids = list(Item.objects.filter(parent__in=frontier).values_list("pk", flat=True))
        frontier = [k for k in kids if k not in ids]
        ids.update(frontier)
    return sum(i.quantity for i in Item.objects.filter(pk__in=ids)
               .exclude(state=State.CONSUMED))


def test_split_merge_and_destruction_conserve_quantities(officer, surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=1000)
    a, b = services.lot_split(actor=officer, item=lot, parts=[300, 200], client_key=uuid.uuid4())
    lot.refresh_from_db()
    assert (lot.quantity, a.quantity, b.quantity) == (500, 300, 200)
    assert family_total(lot) == 1000
    services.item_event_record(actor=officer, item=a, kind="destroyed",
                               data={"method": "burn", "plan": "P", "monitor": "M",
                                     "quantity": "120"})
    a.refresh_from_db()
    assert a.quantity == 180 and a.state == State.IN_CUSTODY
    assert family_total(lot) == 1000
    destroyed = Item.objects.get(parent=a, state=State.DESTROYED)
    assert destroyed.quantity == 120
    merged = services.lot_merge(actor=officer, items=[lot, b], client_key=uuid.uuid4())
    assert merged.quantity == 700
    lot.refresh_from_db()
    assert lot.state == State.CONSUMED and lot.quantity == 0
    assert custody_verify().ok


def test_a_split_that_does_not_add_up_writes_nothing(officer, surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=1000)
    entries = LedgerEntry.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.lot_split(actor=officer, item=lot, parts=[600, 500], client_key=uuid.uuid4())
    assert "1100" in exc.value.fields["parts"][0]
    with pytest.raises(ValidationFailed):
        services.lot_split(actor=officer, item=lot, parts=["-5"], client_key=uuid.uuid4())
    assert LedgerEntry.objects.count() == entries and Item.objects.count() == 1


def test_destroying_more_than_the_lot_holds_is_refused(officer, surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=50)
    with pytest.raises(ValidationFailed):
        services.item_event_record(actor=officer, item=lot, kind="destroyed",
                                   data={"method": "m", "plan": "p", "monitor": "x",
                                         "quantity": 51})
    assert Item.objects.count() == 1


def test_altered_markings_block_transfer_until_remarked(officer, surrender):
    item = surrender(marking_integrity="altered")
    data = {"recipient": "Embassy", "document": "HD-1"}
    with pytest.raises(Conflict) as exc:
        services.item_event_record(actor=officer, item=item, kind="returned", data=data)
    assert exc.value.code == "marking_not_restored"
    services.item_event_record(actor=officer, item=item, kind="remarked", data={})
    services.item_event_record(actor=officer, item=item, kind="returned", data=data)


def test_a_correction_keeps_the_history(officer, surrender):
    item = surrender(serial_number="WRONG-1")
    services.item_correct(actor=officer, item=item, changes={"serial_number": "RIGHT-1"},
                          reason="Misread at the gate")
    item.refresh_from_db()
    assert item.serial_number == "RIGHT-1" and item.serial_key == "RIGHT1"
    first = item.events.get(item_seq=1).ledger_entry
    assert json.loads(first.payload)["data"]["receipt"]
    last = item.events.order_by("-item_seq").first()
    assert last.kind == "correction"
    assert json.loads(last.ledger_entry.payload)["data"]["changes"] == {
        "serial_number": ["WRONG-1", "RIGHT-1"]}


def test_outsiders_see_nothing(users, surrender):
    item = surrender()
    from mawa.custody import selectors

    with pytest.raises(NotFound):
        selectors.item_get(user=users["outsider"], code=item.short_code)
    from mawa.core.errors import Forbidden

    with pytest.raises((NotFound, Forbidden)):  # a reception officer elsewhere: no custody role
        services.item_event_record(actor=users["outsider"], item=item, kind="sealed",
                                   data={"seal": "1"})


def _triggers_off(cur):
    if connection.vendor == "sqlite":
        cur.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND "
                    "tbl_name='core_ledgerentry'")
        saved = cur.fetchall()
        for name, _sql in saved:
            cur.execute(f"DROP TRIGGER {name}")
        return lambda: [cur.execute(sql) for _n, sql in saved]
    cur.execute("ALTER TABLE core_ledgerentry DISABLE TRIGGER USER")
    return lambda: cur.execute("ALTER TABLE core_ledgerentry ENABLE TRIGGER USER")


def test_tampering_with_a_custody_event_is_caught(officer, surrender, store):
    item = move_to_depot(officer, surrender(), store)
    assert custody_verify().ok
    entry = item.events.get(kind="received").ledger_entry
    with connection.cursor() as cur:
        restore = _triggers_off(cur)
        try:
            cur.execute("UPDATE core_ledgerentry SET payload = %s WHERE id = %s",
                        [entry.payload.replace("DEP", "NUR"), entry.pk])
        finally:
            restore()
    report = custody_verify()
    assert not report.ok and any(f"#{entry.seq}" in f for f in report.chain_failures)
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("verify", stream=[entry.stream])


def test_a_hand_edited_state_is_caught(officer, surrender):
    item = surrender()
    Item.objects.filter(pk=item.pk).update(bay="Z9")  # someone edits the table directly
    report = custody_verify()
    assert any(item.short_code in p and "bay" in p for p in report.problems)


def _rows_for(events):
    """Ledger rows (stream, seq, kind, actor, site, payload) of one item's events, as written."""
    rows, state = [], None
    for seq, (kind, data, extra) in enumerate(events, start=1):
        state = derive.apply(state, kind, data, extra, actor="u", site="RHM")
        line = {"id": "item-1", "n": state["n"], **extra, "after": state}
        rows.append(("custody/RHM", seq, kind, "u", "RHM",
                     json.dumps({"data": data, "items": [line]}, separators=(",", ":"))))
    return rows, state


EVENTS = [("surrendered", {}, {"qty": 1, "new": True}), ("sealed", {"seal": "S1"}, {}),
          ("unsealed", {}, {}), ("sealed", {"seal": "S2"}, {})]


def test_the_streaming_replay_applies_events_that_arrive_out_of_order():
    from mawa.custody.verify import replay

    rows, final = _rows_for(EVENTS)
    states, problems = replay([rows[0], rows[2], rows[3], rows[1]])
    assert problems == [] and states["item-1"] == final


def test_the_streaming_replay_names_a_missing_and_a_repeated_event():
    from mawa.custody.verify import replay

    rows, _final = _rows_for(EVENTS)
    _states, problems = replay([rows[0], rows[2], rows[3]])
    assert problems == ["item item-1: event 2 missing (next is 3)"]
    _states, problems = replay([rows[0], rows[1], rows[1]])
    assert len(problems) == 1 and "recorded twice" in problems[0]


def test_the_streaming_replay_catches_a_recorded_state_that_was_not_computed():
    from mawa.custody.verify import replay

    rows, _final = _rows_for(EVENTS)
    forged = json.loads(rows[1][5])
    forged["items"][0]["after"]["seal"] = "S9"
    rows[1] = rows[1][:5] + (json.dumps(forged),)
    _states, problems = replay(rows)
    assert problems and "custody/RHM#2" in problems[0]


def test_lots_surrendered_at_different_sites_are_not_merged(officer, surrender, sites):
    """Issue 15, defect (b): a merged lot keeps one site of surrender."""
    a = surrender(kind=Kind.AMMUNITION, quantity=100)
    b = surrender(kind=Kind.AMMUNITION, quantity=50)
    Item.objects.filter(pk=b.pk).update(site=sites["NUR"])
    with pytest.raises(ValidationFailed):
        services.lot_merge(actor=officer, items=[a, b], client_key=uuid.uuid4())
    a2 = surrender(kind=Kind.AMMUNITION, quantity=10)
    merged = services.lot_merge(actor=officer, items=[a, a2], client_key=uuid.uuid4())
    assert merged.site_id == a.site_id
