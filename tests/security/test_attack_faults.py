"""Fault tests (protection.md attacks 13, 14, 21, 22): a crash between the domain row and its
ledger entry, an audit trail that cannot be written, one audit entry per read and no personal
value in it, and a clock that goes backwards."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.core import ledger
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db


class PowerCut(Exception):
    pass


@pytest.fixture
def crash_in_ledger(monkeypatch):
    """Make the next ledger append die after the domain code has written its rows: the hash
    is computed after the change and before the entry is stored. ``seen`` records what the
    transaction held at the moment of the crash, to show the row really was written."""
    state = {"probe": None, "seen": None}

    def explode(*args, **kwargs):
        if state["probe"] is not None and state["seen"] is None:
            state["seen"] = state["probe"]()
        raise PowerCut()

    monkeypatch.setattr(ledger, "entry_hash", explode)
    return state


def _ledger_count():
    return LedgerEntry.objects.count()


def test_crash_mid_registration_keeps_neither_person_nor_entry(world, users, crash_in_ledger):
    """Attack 21: registration — the person and its ledger entry commit together or not at
    all."""
    from mawa.reception import services
    from mawa.reception.models import Person
    from mawa.reception.services import PersonInput

    persons, entries = Person.objects.count(), _ledger_count()
    crash_in_ledger["probe"] = Person.objects.count
    with pytest.raises(PowerCut):
        services.person_register(actor=users["outsider"], site=world["ZZZ"],
                                 client_key=uuid.uuid4(),
                                 data=PersonInput(values={"given_lat": "Crash", "sex": "male"},
                                                  birth="1990"))
    assert crash_in_ledger["seen"] == persons + 1  # the row was written inside the transaction
    assert Person.objects.count() == persons
    assert _ledger_count() == entries


def test_crash_mid_lifecycle_transition_keeps_the_old_status(world, users, crash_in_ledger):
    """Attack 21: a lifecycle transition — status and its ledger entry together or not at
    all."""
    from mawa.reception import services
    from mawa.reception.models import Person

    person = world["person"]
    before, entries = person.status, _ledger_count()
    crash_in_ledger["probe"] = lambda: Person.objects.get(pk=person.pk).status
    with pytest.raises(PowerCut):
        services.person_transition(actor=users["outsider"], person=person, to="disarmed")
    assert crash_in_ledger["seen"] == "disarmed"
    assert Person.objects.get(pk=person.pk).status == before
    assert _ledger_count() == entries


def test_crash_mid_custody_event_keeps_the_item_where_it_was(world, make_user,
                                                            crash_in_ledger):
    """Attack 21: a custody event (a new store) — the record and its entry together or not
    at all."""
    from mawa.custody import services
    from mawa.custody.models import Store

    keeper = make_user("zz_keeper2", Role.CUSTODY_OFFICER, [world["ZZD"]])
    stores, entries = Store.objects.count(), _ledger_count()
    crash_in_ledger["probe"] = Store.objects.count
    with pytest.raises(PowerCut):
        services.store_create(actor=keeper, site=world["ZZD"], name="Crash store")
    assert Store.objects.count() == stores
    assert _ledger_count() == entries


def test_crash_mid_custody_receipt_keeps_nothing(world, make_user, crash_in_ledger):
    """Attack 21: a custody receipt opened at the gate — receipt and custody entry together
    or not at all."""
    from mawa.custody import services
    from mawa.custody.models import Receipt

    keeper = make_user("zz_keeper3", Role.CUSTODY_OFFICER, [world["ZZZ"]])
    receipts, entries = Receipt.objects.count(), _ledger_count()
    crash_in_ledger["probe"] = Receipt.objects.count
    with pytest.raises(PowerCut):
        services.receipt_open(actor=keeper, site=world["ZZZ"], client_key=uuid.uuid4(),
                              person=world["person"], witness="W")
    assert crash_in_ledger["seen"] == receipts + 1
    assert Receipt.objects.count() == receipts
    assert _ledger_count() == entries


def test_crash_mid_camp_assignment_leaves_the_person_unhoused(world, make_user,
                                                              crash_in_ledger):
    """Attack 21: a camp assignment — the assignment and its entry together or not at all."""
    from mawa.camp import services
    from mawa.camp.models import Assignment
    from mawa.core.services import short_code_next
    from mawa.reception.models import Person

    manager = make_user("zz_manager2", Role.CAMP_MANAGER, [world["ZZC"]])
    now = timezone.now()
    person = Person.objects.create(
        site=world["ZZZ"], short_code=short_code_next(site=world["ZZZ"]),
        client_key=uuid.uuid4(), content_hash="x", current_site=world["ZZC"],
        arrived_at=now - dt.timedelta(days=1), given_lat="Newcomer", status="interned",
        status_changed_at=now, registered_by=manager)
    assignments, entries = Assignment.objects.count(), _ledger_count()
    crash_in_ledger["probe"] = Assignment.objects.count
    with pytest.raises(PowerCut):
        services.assignment_check_in(actor=manager, person=person, shelter=world["shelter"],
                                     client_key=uuid.uuid4())
    assert crash_in_ledger["seen"] == assignments + 1
    assert Assignment.objects.count() == assignments
    assert _ledger_count() == entries


def test_a_sensitive_read_fails_closed_when_the_audit_cannot_be_written(world, users,
                                                                        monkeypatch):
    """Attack 14 / R5: the audit write fails → the person page is not shown (an error page
    without the person's name), for the page and the API."""
    client = Client(raise_request_exception=False)
    client.force_login(users["outsider"])
    person = world["person"]
    assert client.get(f"/reception/persons/{person.pk}/").status_code == 200

    def refuse(*args, **kwargs):
        raise PowerCut()

    monkeypatch.setattr(ledger, "entry_hash", refuse)
    for url in (f"/reception/persons/{person.pk}/", f"/api/reception/persons/{person.pk}"):
        response = client.get(url)
        assert response.status_code == 500, url
        assert b"Faris" not in response.content and b"Qasim" not in response.content


def _audit_reads(obj_id) -> list[dict]:
    rows = LedgerEntry.objects.filter(stream="audit", kind="audit.read")
    return [p for p in (json.loads(r.payload) for r in rows) if p["object_id"] == str(obj_id)]


def test_one_read_gives_exactly_one_audit_entry_without_values(world, users, caplog):
    """Attack 13 / R5: one GET of a person (page, then API), one compartment event read, one
    break-glass opening → exactly one audit entry each; no personal value in any ledger
    payload or log line."""
    person = world["person"]
    client = Client()
    client.force_login(users["outsider"])
    with caplog.at_level(logging.DEBUG):
        client.get(f"/reception/persons/{person.pk}/")
        assert len(_audit_reads(person.pk)) == 1
        client.get(f"/api/reception/persons/{person.pk}")
        assert len(_audit_reads(person.pk)) == 2

        investigator = Client()
        investigator.force_login(users[Role.INVESTIGATOR])
        event = world["compartment"]["event"]
        assert investigator.get(f"/accountability/events/{event.pk}/").status_code == 200
        assert len(_audit_reads(event.pk)) == 1

    secrets = ["Faris", "Qasim", "Fares", "Kassem", "I saw it", "ZZ-000123"]
    payloads = " ".join(LedgerEntry.objects.values_list("payload", flat=True))
    logs = caplog.text
    for secret in secrets:
        assert secret not in payloads, secret
        assert secret not in logs, secret


def test_break_glass_gives_one_audit_entry(world, users):
    """Attack 13 / R4: opening break-glass is one audit entry, its reason kept off the
    ledger."""
    from mawa.accountability import services

    admin = users[Role.ADMINISTRATOR]
    before = LedgerEntry.objects.filter(stream="audit", actor=str(admin.pk)).count()
    services.break_glass_open(actor=admin, reason="Court order 77/2026 for the Faris case")
    entries = LedgerEntry.objects.filter(stream="audit", actor=str(admin.pk))
    assert entries.count() == before + 1
    assert "Faris" not in entries.order_by("-id").first().payload


def test_a_clock_going_backwards_does_not_reorder_the_ledger(db):
    """Attack 22: timestamps are UTC and sequence numbers grow by one even when the clock
    jumps back an hour; the chain still verifies."""
    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        first = ledger.ledger_append(stream="clock/test", kind="t", payload={"n": 1})
    with time_machine.travel(dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC), tick=False):
        second = ledger.ledger_append(stream="clock/test", kind="t", payload={"n": 2})
    with time_machine.travel(dt.datetime(2026, 3, 1, 14, 0, tzinfo=dt.timezone(
            dt.timedelta(hours=3))), tick=False):
        third = ledger.ledger_append(stream="clock/test", kind="t", payload={"n": 3})
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert all(e.ts.endswith("Z") for e in (first, second, third))
    assert third.ts == "2026-03-01T11:00:00.000000Z"  # 14:00 at UTC+3, written as UTC
    rows = list(LedgerEntry.objects.filter(stream="clock/test").order_by("seq"))
    assert [r.entry_hash for r in rows] == [first.entry_hash, second.entry_hash,
                                            third.entry_hash]
    assert rows[1].prev_hash == rows[0].entry_hash
    assert ledger.ledger_verify(streams=["clock/test"]).ok
