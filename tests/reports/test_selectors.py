"""The situation report's figures against the register itself."""

import datetime as dt

import pytest
from django.db.models import Count

from mawa.accounts.roles import Role
from mawa.core.errors import Forbidden, NotFound
from mawa.reception.models import Person, Status
from mawa.reports import selectors
from tests.reports.conftest import DAY1

DAY3 = DAY1 + dt.timedelta(days=2)


def _scope(user, day=DAY3, site=None):
    return selectors.sitrep_scope(user=user, day=day, site_code=site)


def test_population_totals_equal_the_register(register, users):
    report = selectors.sitrep_build(_scope(users[Role.ADMINISTRATOR]))
    by_status = dict(Person.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert report["population"]["total"] == Person.objects.count() == 8
    for row in report["population"]["rows"]:
        assert row["total"] == by_status.get(row["status"], 0)
    assert report["arrivals"]["total"] == Person.objects.count()
    assert sum(r["total"] for r in report["arrivals"]["table"]) == Person.objects.count()
    assert report["population"]["in_care"] == Person.objects.filter(
        status__in=selectors.IN_CARE).count()


def test_arrivals_per_day_by_crossing_and_group(register, users):
    arrivals = selectors.sitrep_arrivals(_scope(users[Role.ADMINISTRATOR]))
    table = {row["day"]: dict(zip(arrivals["crossings"], row["by_crossing"], strict=True))
             for row in arrivals["table"]}
    assert table[DAY1] == {"RHM": 4, "ZZZ": 0}
    assert table[DAY1 + dt.timedelta(days=1)] == {"RHM": 3, "ZZZ": 0}
    assert table[DAY3] == {"RHM": 0, "ZZZ": 1}
    assert arrivals["today"] == 1
    day2 = selectors.sitrep_arrivals(_scope(users[Role.ADMINISTRATOR],
                                            day=DAY1 + dt.timedelta(days=1)))
    assert [(g["reported"], g["registered"]) for g in day2["groups"]] == [(3, 3)]


def test_status_on_a_past_day_comes_from_the_history(register, users):
    """On the first evening the people of day 2 had not come, and those interned at 16:00 on
    day 1 were interned by midnight."""
    report = selectors.sitrep_population(_scope(users[Role.ADMINISTRATOR], day=DAY1))
    totals = {r["status"]: r["total"] for r in report["rows"]}
    assert report["total"] == 4
    assert totals[Status.INTERNED] == 3
    assert totals[Status.REFERRED_OUT] == 1


def test_status_changed_after_the_day_is_counted_as_it_was(make_person, users):
    make_person(arrived=DAY1, status=Status.INTERNED,
                changed=dt.datetime(2025, 3, 5, 9, tzinfo=dt.UTC))
    then = selectors.sitrep_population(_scope(users[Role.ADMINISTRATOR], day=DAY1))
    now = selectors.sitrep_population(_scope(users[Role.ADMINISTRATOR],
                                             day=dt.date(2025, 3, 5)))
    assert {r["status"]: r["total"] for r in then["rows"] if r["total"]} == {
        Status.ARRIVED: 1}
    assert {r["status"]: r["total"] for r in now["rows"] if r["total"]} == {
        Status.INTERNED: 1}


def test_site_scope_counts_registration_and_current_site(register, users):
    admin = users[Role.ADMINISTRATOR]
    assert selectors.sitrep_population(_scope(admin, site="NUR"))["total"] == 4
    assert selectors.sitrep_population(_scope(admin, site="RHM"))["total"] == 7
    assert selectors.sitrep_population(_scope(admin, site="ZZZ"))["total"] == 1


def test_all_my_sites_is_limited_to_the_user_sites(register, users):
    manager = users[Role.CAMP_MANAGER]  # RHM and NUR
    assert selectors.sitrep_build(_scope(manager))["population"]["total"] == 7


def test_a_site_the_user_may_not_see_is_not_found_like_a_missing_one(register, users):
    manager = users[Role.CAMP_MANAGER]
    with pytest.raises(NotFound) as other:
        _scope(manager, site="ZZZ")
    with pytest.raises(NotFound) as missing:
        _scope(manager, site="QQQ")
    assert other.value.as_dict() == missing.value.as_dict()


def test_a_role_without_reports_is_refused(register, users):
    with pytest.raises(Forbidden):
        _scope(users[Role.RECEPTION_OFFICER])


def test_a_day_before_the_first_arrival_gives_an_empty_correct_report(register, users):
    report = selectors.sitrep_build(_scope(users[Role.ADMINISTRATOR],
                                           day=DAY1 - dt.timedelta(days=3)))
    assert report["empty"]
    assert report["arrivals"]["before_first"]
    assert report["arrivals"]["first_arrival"] == DAY1
    assert report["population"]["total"] == 0


def test_an_empty_site_gives_an_empty_report(register, users):
    report = selectors.sitrep_build(_scope(users[Role.ADMINISTRATOR], site="HQ"))
    assert report["empty"] and report["population"]["total"] == 0
    assert report["arrivals"]["first_arrival"] is None


def test_links_only_for_roles_that_may_open_the_records(register, users):
    manager = selectors.sitrep_population(_scope(users[Role.CAMP_MANAGER]))
    auditor = selectors.sitrep_population(_scope(users[Role.AUDITOR]))
    assert all(r["url"].startswith("/reception/persons/?status=") for r in manager["rows"])
    assert not any(r["url"] for r in auditor["rows"])
    stored = selectors.sitrep_population(selectors.sitrep_scope(user=None, day=DAY3))
    assert not any(r["url"] for r in stored["rows"])


def test_the_number_of_queries_does_not_grow_with_the_register(make_person, users,
                                                               django_assert_max_num_queries):
    admin = users[Role.ADMINISTRATOR]
    for _ in range(3):
        make_person()
    with django_assert_max_num_queries(41) as small:  # 40, and whether a snapshot is kept
        selectors.sitrep_build(_scope(admin))
    for _ in range(30):
        make_person(arrived=DAY1 + dt.timedelta(days=1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        selectors.sitrep_build(_scope(admin))


def test_changes_since_the_previous_report(register, users):
    changes = selectors.sitrep_changes(_scope(users[Role.ADMINISTRATOR], day=DAY1))
    moves = {(r["from"], r["to"]): r["n"] for r in changes["rows"]}
    assert sum(moves.values()) == 8  # 4 arrivals and 4 moves on day 1
    assert changes["previous"] == DAY1 - dt.timedelta(days=1)
