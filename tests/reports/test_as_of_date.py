"""The situation report is the register at the end of the report day, not now.

Materiel goes through the custody services on chosen days (the clock moved with
time-machine), so its history is the one the services write; the camp's history rows are
written directly with chosen times. Each test reads a past day after the register moved on,
and today's report against the register itself. The reconciliation is checked both ways: 0 when
the records agree, the difference shown when a row is tampered with."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F, Sum

from mawa.accounts.roles import Role
from mawa.custody import services as custody
from mawa.custody.models import CustodyEvent, Item, Kind, State
from mawa.custody.services import ItemInput
from mawa.reception.models import LifecycleEvent, Status
from mawa.reports import selectors
from tests.reports.conftest import DAY1, at

DAY2 = DAY1 + dt.timedelta(days=1)
STATES = [s for s in State.values if s != State.REFUSED]


@pytest.fixture
def depot(sites):
    from mawa.core.models import Site, SiteKind

    return Site.objects.create(code="DEP", kind=SiteKind.DEPOT, name_ar="المستودع",
                               name_en="Depot")


@pytest.fixture
def officer(users, depot):
    user = users[Role.CUSTODY_OFFICER]
    user.sites.add(depot)
    return user


@pytest.fixture
def reader(users):
    """Reads every site's report and may see the legal-hold figure (report + custody view)."""
    return users[Role.AUDITOR]


@pytest.fixture
def group(sites, users):
    from mawa.reception.models import ArrivalGroup

    return ArrivalGroup.objects.create(
        site=sites["RHM"], short_code="RHM-G1", client_key=uuid.uuid4(),
        arrived_at=at(DAY1, 8), reported_count=4, created_by=users[Role.RECEPTION_OFFICER])


@pytest.fixture
def surrender(officer, sites, group):
    """``surrender(kind, ...)``: one item handed in at RHM on its own receipt, as the gate
    records it."""
    def make(kind=Kind.WEAPON, **values):
        receipt = custody.receipt_open(actor=officer, site=sites["RHM"],
                                       client_key=uuid.uuid4(), group=group)
        if kind == Kind.WEAPON:
            values = {"serial_number": f"SN{uuid.uuid4().hex[:8]}", "cleared_by": "Cpl. A",
                      "verified_by": "Lt. B", "make": "Kalashnikov", "model": "AKM", **values}
        elif kind == Kind.AMMUNITION:
            values = {"calibre": "7.62×39 mm", "model": "ball", "ammunition_type": "ball",
                      **values}
        else:
            values = {"chassis_number": f"CH{uuid.uuid4().hex[:8]}", "cleared_by": "Sgt. C",
                      "verified_by": "Lt. B", "model": "BMP-1", **values}
        item = custody.item_surrender(actor=officer, receipt=receipt, client_key=uuid.uuid4(),
                                      data=ItemInput(kind=kind, **values)).item
        custody.receipt_issue(actor=officer, receipt=receipt)
        return item

    return make


def _report(user, day, site=None):
    return selectors.sitrep_custody(selectors.sitrep_scope(user=user, day=day, site_code=site))


def _cells(report) -> dict:
    return {(r["kind"], s): n for r in report["rows"]
            for s, n in zip(STATES, r["cells"], strict=True) if n}


def _row(report, kind) -> dict:
    return next(r for r in report["rows"] if r["kind"] == kind)


def _register(site=None) -> dict:
    """The items now, as the report counts them: rounds for ammunition, items for the rest."""
    qs = Item.objects.exclude(state=State.REFUSED)
    if site:
        qs = qs.filter(site__code=site)
    return {(kind, state): q if kind == Kind.AMMUNITION else n
            for kind, state, n, q in qs.values_list("kind", "state")
            .annotate(n=Count("id"), q=Sum("quantity")).order_by() if n}


def test_yesterday_after_todays_disposals_shows_yesterdays_state(
        surrender, officer, users, reader, time_machine):
    time_machine.move_to(at(DAY1, 10), tick=False)
    kept, out = surrender(), surrender()
    lot = surrender(Kind.AMMUNITION, quantity=500)
    vehicle = surrender(Kind.VEHICLE)
    surrender(accepted=False, refusal_reason="Hunting rifle")
    time_machine.move_to(at(DAY1, 15), tick=False)
    custody.item_event_record(actor=officer, item=out, kind="access_out",
                              data={"taken_by": "Armourer", "purpose": "cleaning"})
    day1, day1_rhm = _report(reader, DAY1), _report(reader, DAY1, "RHM")

    # the next day: everything moves on
    time_machine.move_to(at(DAY2, 9), tick=False)
    custody.item_event_record(actor=officer, item=kept, kind="destroyed",
                              data={"method": "cutting", "plan": "DP-1", "monitor": "UN"})
    custody.item_event_record(actor=officer, item=out, kind="access_return", data={})
    custody.legal_hold_set(actor=users[Role.INVESTIGATOR], item=out, reason="screening")
    custody.lot_split(actor=officer, item=lot, parts=[200], client_key=uuid.uuid4())
    custody.item_event_record(actor=officer, item=lot, kind="destroyed",
                              data={"method": "open burning", "plan": "DP-1",
                                    "monitor": "UN", "quantity": "100"})
    custody.item_event_record(actor=officer, item=vehicle, kind="transferred",
                              data={"recipient": "Ministry of Defence", "document": "T-1"})
    surrender()

    # yesterday's report, read today, is what yesterday's report said
    again = _report(reader, DAY1)
    assert again == day1 and _report(reader, DAY1, "RHM") == day1_rhm == day1
    assert _cells(again) == {(Kind.WEAPON, State.IN_CUSTODY): 1,
                             (Kind.WEAPON, State.OUT_ON_ACCESS): 1,
                             (Kind.AMMUNITION, State.IN_CUSTODY): 500,
                             (Kind.VEHICLE, State.IN_CUSTODY): 1}
    weapons = _row(again, Kind.WEAPON)
    assert (weapons["received"], weapons["today"], weapons["on_hold"]) == (2, 2, 0)
    assert _row(again, Kind.AMMUNITION)["received"] == 500
    assert again["in_custody"] == 3 and again["balanced"]

    # today's report is the register
    today = _report(reader, DAY2)
    assert _cells(today) == _register() == {
        (Kind.WEAPON, State.IN_CUSTODY): 2, (Kind.WEAPON, State.DESTROYED): 1,
        (Kind.AMMUNITION, State.IN_CUSTODY): 400, (Kind.AMMUNITION, State.DESTROYED): 100,
        (Kind.VEHICLE, State.TRANSFERRED): 1}
    weapons = _row(today, Kind.WEAPON)
    assert (weapons["received"], weapons["today"], weapons["on_hold"]) == (3, 1, 1)
    assert [r["balance"] for r in today["rows"]] == [0, 0, 0]
    # four lots now (the surrendered one, two split off, one of them destroyed), one a day ago
    assert today["in_custody"] == 2 + 2 and today["accounted"] == 3 + 3 + 1


def test_todays_report_equals_the_register_by_site(surrender, officer, reader, depot):
    """A lot handed in at the crossing and split at the depot: each site's rounds balance, and
    the child lot stays with the site of surrender (it is not a new surrender at the depot)."""
    lot = surrender(Kind.AMMUNITION, quantity=900)
    surrender()
    custody.item_event_record(actor=officer, item=lot, kind="dispatched",
                              data={"to_site": "DEP", "escort": "Convoy 1"})
    custody.item_event_record(actor=officer, item=lot, kind="received", data={})
    (child,) = custody.lot_split(actor=officer, item=lot, parts=[350], client_key=uuid.uuid4())
    assert child.site != depot and child.location_site == depot  # issue 15
    from django.utils import timezone

    today = timezone.now().date()
    for site in (None, "RHM", "DEP"):
        report = _report(reader, today, site)
        assert _cells(report) == _register(site), site
        assert report["balanced"], site
    rhm, dep, every = (_row(_report(reader, today, s), Kind.AMMUNITION)
                       for s in ("RHM", "DEP", None))
    assert (rhm["received"], rhm["relotted"], sum(rhm["cells"])) == (900, 0, 900)
    assert (dep["received"], dep["relotted"], sum(dep["cells"])) == (0, 0, 0)
    assert (every["received"], every["relotted"], sum(every["cells"])) == (900, 0, 900)


def test_the_unaccounted_column_shows_records_that_disagree(surrender, reader, sites,
                                                            client_for):
    from django.utils import timezone

    lot = surrender(Kind.AMMUNITION, quantity=300)
    surrender()
    today = timezone.now().date()
    report = _report(reader, today)
    assert [r["balance"] for r in report["rows"]] == [0, 0, 0] and report["balanced"]

    # a weapon written into the register without a surrender, and rounds gone from a lot
    # without an event: neither is what the surrender records say
    Item.objects.create(site=sites["RHM"], short_code="RHM-99999-X", client_key=uuid.uuid4(),
                        kind=Kind.WEAPON, state=State.IN_CUSTODY, location_site=sites["RHM"],
                        serial_number="NO-RECEIPT")
    Item.objects.filter(pk=lot.pk).update(quantity=F("quantity") - 40)
    report = _report(reader, today)
    assert _row(report, Kind.WEAPON)["balance"] == -1
    assert _row(report, Kind.AMMUNITION)["balance"] == 40
    assert _row(report, Kind.VEHICLE)["balance"] == 0
    assert not report["balanced"]
    # and a past day's report shows them as well: they are in no event to undo
    assert _row(_report(reader, today - dt.timedelta(days=1)), Kind.WEAPON)["balance"] == -1

    page = client_for(reader).get("/reports/", {"date": today.isoformat(), "site": "ALL"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="unaccounted-weapon"><strong>-1</strong>' in html
    assert 'data-figure="unaccounted-ammunition"><strong>40</strong>' in html
    assert 'data-figure="unbalanced"' in html


def test_the_migration_fills_the_events_from_the_ledger(surrender, officer):
    """Migration 0004 on rows written before it: their time, state and quantity before and
    after come back from the ledger alone, as the services write them."""
    import importlib

    from django.apps import apps

    lot = surrender(Kind.AMMUNITION, quantity=120)
    custody.lot_split(actor=officer, item=lot, parts=[20, 30], client_key=uuid.uuid4())
    gun = surrender()
    custody.item_event_record(actor=officer, item=gun, kind="access_out",
                              data={"taken_by": "Armourer", "purpose": "cleaning"})
    fields = ("id", "at", "from_state", "to_state", "from_quantity", "to_quantity")
    written = list(CustodyEvent.objects.order_by("id").values_list(*fields))
    assert len(written) >= 10
    CustodyEvent.objects.update(at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), from_state=None,
                                to_state="", from_quantity=None, to_quantity=0)

    migration = importlib.import_module("mawa.custody.migrations.0004_custodyevent_state")

    class Editor:  # what RunPython passes: only its connection is used
        pass

    Editor.connection = connection
    migration.backfill(apps, Editor())
    assert list(CustodyEvent.objects.order_by("id").values_list(*fields)) == written
    assert CustodyEvent.objects.filter(kind="split", item=lot).values_list(
        "from_quantity", "to_quantity").get() == (120, 70)


def test_camp_sections_on_a_past_day(users, sites, make_person, time_machine):
    """Incidents closed, roll calls resolved, stock received and shelters resized after the
    day, and a person interned at the camp after it: the day's report shows them as they
    were."""
    from mawa.camp import services as camp
    from mawa.camp.models import (
        DailyDistribution,
        Incident,
        IncidentFollowUp,
        ItemType,
        RollCall,
        StockEntry,
    )

    manager, nur = users[Role.CAMP_MANAGER], sites["NUR"]
    time_machine.move_to(at(DAY1, 9), tick=False)
    zone = camp.zone_create(actor=manager, site=nur, name="North")
    block = camp.block_create(actor=manager, zone=zone, name="A")
    shelter = camp.shelter_create(actor=manager, block=block, name="A1", capacity=10)
    incident = Incident.objects.create(
        site=nur, short_code="NUR-I1", client_key=uuid.uuid4(), kind="fire",
        severity="high", occurred_at=at(DAY1, 11), summary="—", reported_by=manager)
    found = RollCall.objects.create(
        site=nur, short_code="NUR-R1", client_key=uuid.uuid4(), block=block, mode="count",
        day=DAY1, started_at=at(DAY1, 18), closed_at=at(DAY1, 19), status="discrepancy",
        expected=10, present=9, missing=1, taken_by=manager)
    RollCall.objects.create(  # closed after midnight: in progress at the end of the day
        site=nur, short_code="NUR-R2", client_key=uuid.uuid4(), block=block, mode="count",
        day=DAY1, started_at=at(DAY1, 23), status="balanced", expected=10, present=10,
        taken_by=manager, closed_at=dt.datetime.combine(DAY2, dt.time(0, 30), tzinfo=dt.UTC))
    meal = ItemType.objects.create(site=nur, short_code="NUR-M1", name_ar="غداء",
                                   name_en="Lunch", stock=45, per_person_per_day=Decimal(1))
    StockEntry.objects.create(item=meal, quantity=50, reason="delivery", at=at(DAY1, 8),
                              actor=manager, client_key=uuid.uuid4())
    DailyDistribution.objects.create(site=nur, item=meal, day=DAY1, quantity=5)
    moved = make_person(site="RHM", current="NUR", status=Status.INTERNED,
                        changed=at(DAY2, 10))
    # registered at ZZZ, interned at the camp on the first day, released the next
    away = make_person(site="ZZZ", current="ZZZ", status=Status.RELEASED,
                       changed=at(DAY2, 9))
    LifecycleEvent.objects.create(person=away, from_status=Status.ARRIVED,
                                  to_status=Status.INTERNED, at=at(DAY1, 16), actor=manager,
                                  site=nur, ledger_seq=0)

    time_machine.move_to(at(DAY2, 12), tick=False)
    camp.shelter_capacity_set(actor=manager, shelter=shelter, capacity=4)
    Incident.objects.filter(pk=incident.pk).update(is_closed=True)
    IncidentFollowUp.objects.create(incident=incident, at=at(DAY2, 8), actor=manager,
                                    note="put out", closes=True)
    RollCall.objects.filter(pk=found.pk).update(status="resolved", resolution="in the clinic",
                                                resolved_at=at(DAY2, 8), resolved_by=manager)
    StockEntry.objects.create(item=meal, quantity=100, reason="delivery", at=at(DAY2, 8),
                              actor=manager, client_key=uuid.uuid4())
    DailyDistribution.objects.create(site=nur, item=meal, day=DAY2, quantity=20)
    ItemType.objects.filter(pk=meal.pk).update(stock=45 + 100 - 20)

    admin = users[Role.ADMINISTRATOR]
    then = selectors.sitrep_build(selectors.sitrep_scope(user=admin, day=DAY1,
                                                         site_code="NUR"))
    now = selectors.sitrep_build(selectors.sitrep_scope(user=admin, day=DAY2,
                                                        site_code="NUR"))
    assert (then["camp"]["capacity"], now["camp"]["capacity"]) == (10, 4)
    assert (then["incidents"]["total"], now["incidents"]["total"]) == (1, 0)
    assert (then["incidents"]["rollcall_discrepancies"],
            now["incidents"]["rollcall_discrepancies"]) == (1, 0)
    assert {r["status"]: (r["n"], r["expected"]) for r in then["rollcalls"]["rows"]} == {
        "discrepancy": (1, 10), "open": (1, 0)}
    assert [r["stock"] for r in then["distributions"]["rows"]] == [45]
    assert [r["stock"] for r in now["distributions"]["rows"]] == [125]
    # on the first evening the camp held the one released since, not the one interned the
    # next day (who was still the crossing's)
    population = {r["status"]: r["total"] for r in then["population"]["rows"] if r["total"]}
    assert population == {Status.INTERNED: 1}
    assert {r["status"]: r["total"] for r in now["population"]["rows"] if r["total"]} == {
        Status.INTERNED: 1}
    crossing = selectors.sitrep_population(selectors.sitrep_scope(user=admin, day=DAY1,
                                                                  site_code="RHM"))
    assert {r["status"]: r["total"] for r in crossing["rows"] if r["total"]} == {
        Status.ARRIVED: 1}
    assert moved.current_site == nur and away.current_site.code == "ZZZ"
    # the protected statistics count people in care at each camp that evening the same way
    counts, _camps = selectors.stats_counts(day=DAY1)
    assert counts == {("NUR", "m_adults"): 1}


def test_a_merge_at_the_depot_keeps_the_site_of_surrender(surrender, officer, reader, depot):
    """Issue 15, defect (b): lots handed in at the crossing and merged at the depot are still
    rounds surrendered at the crossing; the depot shows no surrender and no relotting."""
    from django.utils import timezone

    lots = [surrender(Kind.AMMUNITION, quantity=q) for q in (400, 100)]
    surrender()
    for lot in lots:
        custody.item_event_record(actor=officer, item=lot, kind="dispatched",
                                  data={"to_site": "DEP", "escort": "Convoy 1"})
        custody.item_event_record(actor=officer, item=lot, kind="received", data={})
    merged = custody.lot_merge(actor=officer, items=lots, client_key=uuid.uuid4())
    assert merged.site.code == "RHM" and merged.location_site == depot
    today = timezone.now().date()
    for s in ("RHM", "DEP", None):
        assert _report(reader, today, s)["balanced"], s
    rhm, dep = (_row(_report(reader, today, s), Kind.AMMUNITION) for s in ("RHM", "DEP"))
    assert (rhm["received"], rhm["relotted"], sum(rhm["cells"])) == (500, 0, 500)
    assert (dep["received"], dep["relotted"], sum(dep["cells"])) == (0, 0, 0)
