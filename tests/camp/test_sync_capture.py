"""Change capture of the camp (issue 17): each write records the changes another node needs,
and replaying them through the same services (``mawa.camp.replay``) makes the same records:
ids, short codes, values and times. Roll-call marks travel with the close, in one change."""

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from mawa.accounts.models import User
from mawa.camp import services
from mawa.camp.models import (
    Assignment,
    DailyDistribution,
    Distribution,
    Incident,
    IncidentFollowUp,
    ItemType,
    Movement,
    RollCall,
    RollCallCount,
    RollCallLine,
    RollCallScan,
)
from mawa.core.changes import UniqueBroken, change_applier, change_applying
from mawa.core.changes_models import Change, ChangeOp, RecordHead
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db


def key():
    return uuid.uuid4()


class _Rollback(Exception):
    pass


def snapshot() -> dict:
    """Every camp record as values (rows without ids of their own: by what they hold), and
    the payloads of the camp streams."""
    return {
        "roll_calls": list(RollCall.objects.order_by("id").values()),
        "scans": sorted(RollCallScan.objects.values_list("roll_call_id", "person_id", "at")),
        "counts": sorted(RollCallCount.objects.values_list("roll_call_id", "shelter_id",
                                                           "counted", "expected")),
        "lines": sorted(RollCallLine.objects.values_list(
            "roll_call_id", "finding", "person_id", "shelter_id", "difference"), key=str),
        "stays": list(Assignment.objects.order_by("id").values()),
        "movements": list(Movement.objects.order_by("id").values()),
        "distributions": list(Distribution.objects.order_by("id").values()),
        "daily": list(DailyDistribution.objects.order_by("item_id", "day").values(
            "item_id", "day", "quantity", "cost")),
        "stock": list(ItemType.objects.order_by("id").values_list("id", "stock")),
        "incidents": list(Incident.objects.order_by("id").values()),
        "incident_persons": sorted(Incident.persons.through.objects.values_list(
            "incident_id", "person_id")),
        "follow_ups": list(IncidentFollowUp.objects.order_by("id").values()),
        "ledger": [(e.stream, e.kind, e.payload) for e in LedgerEntry.objects.filter(
            stream__startswith="camp/").order_by("id")],
    }


def replay(changes: list[Change]) -> None:
    """Apply ``changes`` as the sync engine does: each through its applier, as its actor."""
    for change in changes:
        applier = change_applier(change)
        assert applier is not None, (change.record_type, change.op, change.fields.get("action"))
        with transaction.atomic(), change_applying(change):
            applier(change, User.objects.get(username=change.actor))


def capture(write) -> list[Change]:
    """Run ``write`` in a transaction that is rolled back; its changes, kept in memory."""
    seen = set(Change.objects.values_list("id", flat=True))
    kept: dict = {}
    with pytest.raises(_Rollback), transaction.atomic():
        write()
        kept["changes"] = list(Change.objects.exclude(id__in=seen).filter(
            record_type__startswith="camp.").order_by("seq"))
        kept["records"] = snapshot()
        raise _Rollback
    return kept["changes"], kept["records"]


def round_trip(write) -> list[Change]:
    """Capture ``write``'s changes, replay them; the records must come back the same."""
    seen = set(Change.objects.values_list("id", flat=True))
    changes, records = capture(write)
    assert changes
    replay(changes)
    assert snapshot() == records
    assert not Change.objects.exclude(id__in=seen).exists()  # nothing minted on a replay
    for change in changes:
        assert RecordHead.objects.filter(record_type=change.record_type,
                                         record_id=change.record_id).exists()
    return changes


def ops(changes) -> list[tuple]:
    return [(c.record_type, c.op, c.fields.get("action", "")) for c in changes]


# --- roll calls --------------------------------------------------------------------------

def test_a_scanned_roll_call_travels_as_opened_closed_with_its_marks_and_resolved(
        housed, layout, staff):
    def write():
        rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key())
        for person in housed[:4]:
            services.rollcall_scan(actor=staff, roll_call=rc, code=person.short_code)
        rc = services.rollcall_close(actor=staff, roll_call=rc)
        services.rollcall_resolve(actor=staff, roll_call=rc, reason="found at the clinic")

    changes = round_trip(write)
    assert ops(changes) == [("camp.rollcall", ChangeOp.CREATE, ""),
                            ("camp.rollcall", ChangeOp.ACTION, "close"),
                            ("camp.rollcall", ChangeOp.ACTION, "resolve")]
    assert len(changes[1].fields["scans"]) == 4
    assert RollCall.objects.get().missing == 1


def test_a_head_count_travels_with_the_close(housed, layout, staff):
    def write():
        rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key(),
                                     mode="count")
        services.rollcall_count(actor=staff, roll_call=rc, counts={
            layout["A1/T1"].id: 3, str(layout["A1/T2"].id): 1})
        services.rollcall_close(actor=staff, roll_call=rc)

    changes = round_trip(write)
    assert changes[1].fields["counts"] == {str(layout["A1/T1"].id): 3,
                                           str(layout["A1/T2"].id): 1}


def test_ten_days_of_roll_calls_replay(housed, layout, staff):
    def write():
        for day in range(10):
            rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key(),
                                         day=timezone.localdate() - dt.timedelta(days=day))
            for person in housed:
                services.rollcall_scan(actor=staff, roll_call=rc, code=person.short_code)
            services.rollcall_close(actor=staff, roll_call=rc)

    changes = round_trip(write)
    assert len(changes) == 20  # two per roll call, whatever the number of marks


# --- stays, movements ----------------------------------------------------------------------

def test_a_check_in_and_a_move_replay(layout, make_person, staff):
    person = make_person()

    def write():
        services.assignment_check_in(actor=staff, person=person, shelter=layout["A1/T1"],
                                     client_key=key(), reason="arrival")
        services.assignment_move(actor=staff, person=person, shelter=layout["A1/T2"],
                                 client_key=key(), reason="family")

    changes = round_trip(write)
    assert ops(changes) == [("camp.assignment", ChangeOp.CREATE, "")] * 2
    assert changes[1].fields["move"] is True


def test_a_group_housed_at_once_travels_as_one_stay_each(layout, make_person, manager, camp,
                                                         sites):
    people = [make_person(status="registered", site=sites["RHM"]) for _ in range(3)]

    def write():
        services.group_assign(actor=manager, site=camp, persons=people, block=layout["A1"],
                              client_key=key())

    changes, records = capture(write)
    assert ops(changes) == [("camp.assignment", ChangeOp.CREATE, "")] * 3
    replay(changes)
    assert snapshot()["stays"] == records["stays"]


def test_a_person_housed_on_both_sides_is_a_review_item(layout, make_person, staff):
    person = make_person()
    changes, _records = capture(lambda: services.assignment_check_in(
        actor=staff, person=person, shelter=layout["A1/T1"], client_key=key()))
    # meanwhile, here, he was housed elsewhere
    services.assignment_check_in(actor=staff, person=person, shelter=layout["A2/T1"],
                                 client_key=key())
    with pytest.raises(UniqueBroken):
        replay(changes)
    assert Assignment.objects.filter(person=person).count() == 1


def test_a_hospital_movement_and_the_return_replay(housed, staff, camp):
    def write():
        out = services.movement_out(actor=staff, person=housed[0], kind="visit", site=camp,
                                    client_key=key(),
                                    due_back_at=timezone.now() + dt.timedelta(hours=3),
                                    destination="family", note="visit")
        services.movement_return(actor=staff, movement=out)

    changes = round_trip(write)
    assert ops(changes) == [("camp.movement", ChangeOp.CREATE, ""),
                            ("camp.movement", ChangeOp.ACTION, "return")]


# --- distributions, incidents ------------------------------------------------------------------

def test_a_distribution_replays_with_its_stock_and_daily_total(housed, staff, camp, manager):
    lunch = services.item_type_create(actor=manager, site=camp, client_key=key(), data={
        "name_ar": "غداء", "name_en": "Lunch", "unit_cost": "2.50", "max_per_day": 1})
    services.stock_adjust(actor=manager, item=lunch, quantity=10, reason="delivery",
                          client_key=key())
    lunch.refresh_from_db()
    round_trip(lambda: services.distribution_record(actor=staff, item=lunch, person=housed[0],
                                                    client_key=key()))


def test_an_incident_and_its_follow_up_replay(housed, staff, camp, layout):
    def write():
        incident = services.incident_report(
            actor=staff, site=camp, client_key=key(), kind="fire", severity="high",
            occurred_at=timezone.now(), summary="Tent fire", block=layout["A1"],
            persons=housed[:2])
        services.incident_follow_up(actor=staff, incident=incident, note="put out",
                                    close=True)

    changes = round_trip(write)
    assert ops(changes) == [("camp.incident", ChangeOp.CREATE, ""),
                            ("camp.incident", ChangeOp.ACTION, "follow_up")]


def test_a_movement_the_camp_derives_from_a_replayed_lifecycle_move_has_the_same_id(
        housed, staff):
    """Derived rows are not changes of their own: derived again from the parent change, with
    ids every node computes alike."""
    from mawa.camp.services._common import REPLAY_NAMESPACE
    from mawa.camp.services.movements import camp_follow_transition
    from mawa.core.ids import uuid7

    person = housed[0]
    change = Change(id=uuid7(), node="QAM", seq=7, record_type="reception.person",
                    record_id=person.id, op=ChangeOp.ACTION, fields={"action": "transition"},
                    actor=staff.username, site="NUR", made_at="")
    with transaction.atomic(), change_applying(change):
        camp_follow_transition(persons=[person], source="interned", target="hospitalised",
                               actor=staff, recorded={"facility": "Clinic"})
    movement = Movement.objects.get(person=person)
    derived = uuid.uuid5(REPLAY_NAMESPACE, f"{change.id}/movement/{person.id}")
    assert movement.id == derived and movement.client_key == derived
    assert movement.is_open and movement.destination == "Clinic"
