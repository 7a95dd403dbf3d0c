"""The day snapshot: the report of a day that is over reads a few hundred kept counts instead
of the register, and says exactly what the register says.

The register is generated at random (seeded) straight into the tables, with the histories the
report reads for past days: moves recorded days later, a move recorded after a later one
(backdated), merged duplicates, a person whose history starts after the day. Every figure read
from the snapshot is compared with the same figure read from the register, for every day and
every kind of scope."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mawa.accounts.roles import Role
from mawa.reception.models import Category, LifecycleEvent, Status
from mawa.reports import selectors, services
from mawa.reports.consistency import consistency_check
from mawa.reports.models import DayCount, DaySnapshot
from tests.reports.conftest import DAY1, at

DAYS = [DAY1 + dt.timedelta(days=i) for i in range(-1, 8)]


def _scopes(sites, day):
    ids = {code: s.pk for code, s in sites.items()}
    yield selectors.Scope(day=day, site=None, site_ids=None)
    for code in ids:
        yield selectors.Scope(day=day, site=sites[code], site_ids=frozenset({ids[code]}))
    yield selectors.Scope(day=day, site=None, site_ids=frozenset({ids["RHM"], ids["NUR"]}))
    yield selectors.Scope(day=day, site=None, site_ids=frozenset({ids["ZZZ"], ids["HQ"]}))


def _figures(scope, snapshot=None) -> tuple:
    return (selectors.sitrep_arrivals(scope, snapshot),
            selectors.sitrep_population(scope, snapshot),
            selectors.sitrep_changes(scope, snapshot))


@pytest.fixture
def generated(make_person, make_group, sites, users):
    """About 120 persons over a week at two crossings, held at the camp or a crossing."""
    rng = random.Random(18)
    officer = users[Role.RECEPTION_OFFICER]
    groups = [make_group(site=c, arrived=DAY1 + dt.timedelta(days=rng.randrange(5)))
              for c in ("RHM", "ZZZ", "RHM")]
    statuses = [Status.INTERNED, Status.REGISTERED, Status.HOSPITALISED, Status.RELEASED,
                Status.ARRIVED, Status.MERGED, Status.ESCAPED]
    people = []
    for _ in range(120):
        arrived = DAY1 + dt.timedelta(days=rng.randrange(6))
        crossing = rng.choice(["RHM", "ZZZ"])
        status = rng.choice(statuses)
        # most move the day they arrive, some days later (read from history in between)
        later = rng.choice([0, 0, 0, 1, 3])
        changed = at(arrived, 10) + dt.timedelta(days=later, hours=rng.randrange(1, 12))
        person = make_person(site=crossing, current=rng.choice(["NUR", crossing, "HQ"]),
                             arrived=arrived, status=status, changed=changed,
                             category=rng.choice(Category.values),
                             group=rng.choice([None, *groups]))
        people.append(person)
        if rng.random() < 0.2:
            # a move recorded after the last one but dated before it (backdated), at another
            # site: the history of the days in between is what it says
            LifecycleEvent.objects.create(
                person=person, from_status=Status.ARRIVED, to_status=Status.DISARMED,
                at=at(arrived, 10) + dt.timedelta(minutes=30), actor=officer,
                site=sites[rng.choice(["HQ", "ZZZ", "RHM"])], ledger_seq=0)
    # a person whose history starts after the day they arrived (none before: still 'arrived',
    # held nowhere)
    ghost = make_person(arrived=DAY1, status=Status.INTERNED,
                        changed=at(DAY1 + dt.timedelta(days=4)))
    LifecycleEvent.objects.filter(person=ghost).update(at=at(DAY1 + dt.timedelta(days=4)))
    return people


def test_the_snapshot_says_what_the_register_says_every_day_in_every_scope(generated, sites):
    for day in DAYS:
        scanned = {i: _figures(scope) for i, scope in enumerate(_scopes(sites, day))}
        kept = services.snapshot_store(day=day)
        assert kept is not None and kept.rows == DayCount.objects.filter(day=day).count()
        for i, scope in enumerate(_scopes(sites, day)):
            snapshot = selectors.snapshot_read(scope)
            assert snapshot is not None
            assert _figures(scope, snapshot) == scanned[i], (day, scope.site_ids)
    # some figures at all: the comparison is not between empty reports
    middle = selectors.Scope(day=DAY1 + dt.timedelta(days=3), site=None, site_ids=None)
    arrivals, population, changes = _figures(middle)
    assert arrivals["total"] > 50 and arrivals["groups"] and changes["total"] > 0
    assert len({r["status"] for r in population["rows"] if r["total"]}) > 3


def test_the_whole_report_is_the_same_with_the_snapshot(generated, users):
    admin = users[Role.ADMINISTRATOR]
    day = DAY1 + dt.timedelta(days=2)
    for code in ("ALL", "RHM", "NUR"):
        scope = selectors.sitrep_scope(user=admin, day=day, site_code=code)
        before = selectors.sitrep_build(scope)
        services.snapshot_store(day=day)
        assert selectors.snapshot_read(scope) is not None
        assert selectors.sitrep_build(scope) == before, code


def test_today_is_yesterdays_snapshot_and_todays_changes(generated, sites, time_machine):
    """Today's report is not kept (today is not over) but read from yesterday's snapshot and
    the persons changed today: the same figures as the register's, every day, every scope —
    with persons arriving and moving on later days still ahead."""
    for i in range(1, 7):
        today = DAY1 + dt.timedelta(days=i)
        time_machine.move_to(at(today, 18), tick=False)
        assert selectors.snapshot_read(selectors.Scope(day=today, site=None,
                                                       site_ids=None)) is None
        services.snapshot_store(day=today - dt.timedelta(days=1))
        for scope in _scopes(sites, today):
            snapshot = selectors.snapshot_read(scope)
            assert snapshot is not None
            assert _figures(scope, snapshot) == _figures(scope), (today, scope.site_ids)


def test_today_when_the_first_arrival_of_a_row_moves_away(make_person, sites, users,
                                                           time_machine):
    """The first arrival held at the camp leaves it today: the camp's first arrival is then
    read again (it is not the minimum of what is left of yesterday's row)."""
    from mawa.reception.models import Person

    first = make_person(arrived=DAY1)
    for _ in range(2):
        make_person(arrived=DAY1 + dt.timedelta(days=1))
    today = DAY1 + dt.timedelta(days=3)
    time_machine.move_to(at(today, 18), tick=False)
    services.snapshot_store(day=today - dt.timedelta(days=1))
    Person.objects.filter(pk=first.pk).update(status=Status.RELEASED, current_site=sites["HQ"],
                                              status_changed_at=at(today, 9))
    LifecycleEvent.objects.create(person=first, from_status=Status.INTERNED,
                                  to_status=Status.RELEASED, at=at(today, 9),
                                  actor=users[Role.RECEPTION_OFFICER], site=sites["HQ"],
                                  ledger_seq=0)
    scope = selectors.Scope(day=today, site=sites["NUR"], site_ids=frozenset({sites["NUR"].pk}))
    snapshot = selectors.snapshot_read(scope)
    assert snapshot is not None and not snapshot.first_exact
    arrivals = selectors.sitrep_arrivals(scope, snapshot)
    assert arrivals["first_arrival"] == DAY1 + dt.timedelta(days=1)
    assert _figures(scope, snapshot) == _figures(scope)


def test_a_day_not_over_has_no_snapshot(generated, time_machine):
    time_machine.move_to(at(DAY1 + dt.timedelta(days=3), 18), tick=False)
    today = DAY1 + dt.timedelta(days=3)
    assert services.snapshot_store(day=today) is None
    assert services.snapshot_store(day=today - dt.timedelta(days=1)) is not None
    services.snapshot_ensure(day=today)
    assert not DaySnapshot.objects.filter(day=today).exists()
    assert not DaySnapshot.objects.filter(day__gte=today).exists()
    # a replay sets the clock back over kept days: storing its day (not over) drops them
    time_machine.move_to(at(today - dt.timedelta(days=2), 18), tick=False)
    assert services.snapshot_store(day=today - dt.timedelta(days=2)) is None
    assert not DaySnapshot.objects.exists()


def test_the_report_reads_no_person_once_the_day_is_kept(generated, users):
    """With a snapshot, the report's queries do not depend on the register: none reads the
    persons or their history, and there are as many for a bigger register."""
    admin = users[Role.ADMINISTRATOR]
    day = DAY1 + dt.timedelta(days=4)
    services.snapshot_store(day=day)
    scope = selectors.sitrep_scope(user=admin, day=day, site_code="ALL")
    with CaptureQueriesContext(connection) as small:
        selectors.sitrep_build(scope)
    sql = " ".join(q["sql"] for q in small.captured_queries)
    assert "reception_person" not in sql and "reception_lifecycleevent" not in sql
    assert "reports_daycount" in sql


def test_the_number_of_queries_with_a_snapshot_does_not_grow(make_person, users):
    admin = users[Role.ADMINISTRATOR]
    day = DAY1 + dt.timedelta(days=1)
    for _ in range(3):
        make_person()
    services.snapshot_store(day=day)
    scope = selectors.sitrep_scope(user=admin, day=day, site_code="ALL")
    with CaptureQueriesContext(connection) as small:
        selectors.sitrep_build(scope)
    for i in range(40):
        make_person(arrived=DAY1 + dt.timedelta(days=i % 2), site=("RHM", "ZZZ")[i % 2])
    services.snapshot_store(day=day)
    with CaptureQueriesContext(connection) as big:
        selectors.sitrep_build(scope)
    assert len(big.captured_queries) == len(small.captured_queries) < 40


def test_the_first_report_of_a_day_over_keeps_its_snapshot(generated, users):
    admin = users[Role.ADMINISTRATOR]
    day = DAY1 + dt.timedelta(days=2)
    first = services.sitrep_get(user=admin, day=day, site_code="ALL")
    assert DaySnapshot.objects.filter(day=day).exists()
    again = services.sitrep_get(user=admin, day=day, site_code="ALL")
    for section in ("arrivals", "population", "changes"):
        assert again[section] == first[section]


def test_the_consistency_check_names_the_first_difference(generated):
    day = DAY1 + dt.timedelta(days=3)
    skipped = next(c for c in consistency_check(day=day).checks if c.name == "day_snapshot")
    assert skipped.skipped and skipped.ok
    services.snapshot_store(day=day)
    check = next(c for c in consistency_check(day=day).checks if c.name == "day_snapshot")
    assert check.ok and not check.skipped and check.figures["differences"] == 0
    # a kept count that the records do not support
    row = DayCount.objects.filter(day=day, measure=DayCount.POPULATION).order_by("a").first()
    DayCount.objects.filter(pk=row.pk).update(n=row.n + 2)
    check = next(c for c in consistency_check(day=day).checks if c.name == "day_snapshot")
    assert not check.ok and check.figures["differences"] == 1
    assert check.figures["first_difference"].startswith("population ")
    assert f"{row.a} {row.b}: kept {row.n + 2}" in check.figures["first_difference"]
    assert f"records {row.n}" in check.figures["first_difference"]


# --- backdated changes through the services drop the kept days they change ------------------

@pytest.fixture
def officer(users):
    return users[Role.RECEPTION_OFFICER]


def _register(officer, sites, **kw):
    import uuid

    from mawa.reception.services import PersonInput, person_register

    person, _created = person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "محمد", "given_lat": "Mohammed",
                                 "family_ar": "الحلبي", "family_lat": "al-Halabi",
                                 "sex": "male"}, birth="1990-03-15"), **kw)
    return person


def _same_as_register(sites, day):
    for scope in _scopes(sites, day):
        snapshot = selectors.snapshot_read(scope)
        if snapshot is not None:
            assert _figures(scope, snapshot) == _figures(scope), (day, scope.site_ids)


def test_a_backdated_move_drops_the_days_it_changes(officer, sites, time_machine):
    from mawa.reception.services import persons_transition

    time_machine.move_to(at(DAY1, 9), tick=False)
    people = [_register(officer, sites) for _ in range(3)]
    time_machine.move_to(at(DAY1 + dt.timedelta(days=4), 9), tick=False)
    for i in range(4):
        services.snapshot_store(day=DAY1 + dt.timedelta(days=i))
    # today, a move that happened on day 2 is recorded
    persons_transition(actor=officer, persons=people[:2], to=Status.DISARMED,
                       at=at(DAY1 + dt.timedelta(days=2), 15))
    assert set(DaySnapshot.objects.values_list("day", flat=True)) == {
        DAY1, DAY1 + dt.timedelta(days=1)}
    for i in range(4):
        services.snapshot_ensure(day=DAY1 + dt.timedelta(days=i))
        _same_as_register(sites, DAY1 + dt.timedelta(days=i))
    scope = selectors.Scope(day=DAY1 + dt.timedelta(days=2), site=None, site_ids=None)
    counts = selectors.sitrep_population(scope, selectors.snapshot_read(scope))
    assert {r["status"]: r["total"] for r in counts["rows"] if r["total"]} == {
        Status.ARRIVED: 1, Status.DISARMED: 2}
    # a move of today changes no day that is over
    persons_transition(actor=officer, persons=people[2:], to=Status.DISARMED)
    assert DaySnapshot.objects.count() == 4


def test_a_backdated_arrival_drops_the_days_from_the_arrival(officer, sites, time_machine):
    time_machine.move_to(at(DAY1 + dt.timedelta(days=4), 9), tick=False)
    _register(officer, sites)
    for i in range(4):
        services.snapshot_store(day=DAY1 + dt.timedelta(days=i))
    _register(officer, sites, arrived_at=at(DAY1 + dt.timedelta(days=1), 7))
    assert set(DaySnapshot.objects.values_list("day", flat=True)) == {DAY1}
    for i in range(4):
        services.snapshot_ensure(day=DAY1 + dt.timedelta(days=i))
        _same_as_register(sites, DAY1 + dt.timedelta(days=i))


def test_a_merged_duplicate_drops_the_days_since_its_arrival(officer, sites, time_machine):
    from mawa.reception.services import person_merge

    time_machine.move_to(at(DAY1, 9), tick=False)
    survivor, duplicate = _register(officer, sites), _register(officer, sites)
    time_machine.move_to(at(DAY1 + dt.timedelta(days=3), 9), tick=False)
    for i in range(3):
        services.snapshot_store(day=DAY1 + dt.timedelta(days=i))
    person_merge(actor=None, duplicate=duplicate, survivor=survivor, site=sites["RHM"])
    assert not DaySnapshot.objects.exists()


def test_a_correction_drops_days_only_when_the_category_changes(officer, sites, time_machine):
    from mawa.reports.services import snapshot_on_person_changed

    time_machine.move_to(at(DAY1, 9), tick=False)
    person = _register(officer, sites)
    time_machine.move_to(at(DAY1 + dt.timedelta(days=3), 9), tick=False)
    services.snapshot_store(day=DAY1 + dt.timedelta(days=1))
    snapshot_on_person_changed(persons=[person], fields=["given_lat"])
    assert DaySnapshot.objects.count() == 1
    snapshot_on_person_changed(persons=[person], fields=["birth_year", "category"])
    assert not DaySnapshot.objects.exists()


def test_a_category_decision_drops_the_days_since_the_arrival(officer, users, sites,
                                                              time_machine):
    from mawa.reception.services import person_categorise

    time_machine.move_to(at(DAY1, 9), tick=False)
    person = _register(officer, sites)
    time_machine.move_to(at(DAY1 + dt.timedelta(days=3), 9), tick=False)
    for i in range(3):
        services.snapshot_store(day=DAY1 + dt.timedelta(days=i))
    person_categorise(actor=users[Role.PROTECTION_OFFICER], person=person,
                      category=Category.CIVILIAN, reason="Age assessment")
    assert not DaySnapshot.objects.exists()
    services.snapshot_ensure(day=DAY1 + dt.timedelta(days=1))
    _same_as_register(sites, DAY1 + dt.timedelta(days=1))
