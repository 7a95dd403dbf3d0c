"""A small register written straight into the tables (fast, with chosen timestamps) plus the
lifecycle history rows the report reads for past days."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from mawa.reception.models import ArrivalGroup, Category, LifecycleEvent, Person, Status

_seq = itertools.count(1)
DAY1 = dt.date(2025, 3, 1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def make_person(sites, users):
    from mawa.accounts.roles import Role

    officer = users[Role.RECEPTION_OFFICER]

    def make(*, site="RHM", current="NUR", arrived=DAY1, status=Status.INTERNED,
             category=Category.COMBATANT, sex="male", birth_year=1990, group=None,
             changed=None):
        n = next(_seq)
        arrived_at = at(arrived)
        changed_at = changed or arrived_at + dt.timedelta(hours=6)
        person = Person.objects.create(
            site=sites[site], current_site=sites[current], short_code=f"T{n:07d}",
            client_key=uuid.uuid4(), content_hash="x", group=group, arrived_at=arrived_at,
            sex=sex, birth_year=birth_year, category=category, status=status,
            status_changed_at=changed_at, registered_by=officer, given_lat=f"P{n}")
        LifecycleEvent.objects.create(person=person, from_status="", to_status=Status.ARRIVED,
                                      at=arrived_at, actor=officer, site=sites[site],
                                      ledger_seq=0)
        if status != Status.ARRIVED:
            LifecycleEvent.objects.create(person=person, from_status=Status.ARRIVED,
                                          to_status=status, at=changed_at, actor=officer,
                                          site=sites[current], ledger_seq=0)
        return person

    return make


@pytest.fixture
def make_group(sites, users):
    from mawa.accounts.roles import Role

    def make(*, site="RHM", arrived=DAY1, reported=5):
        n = next(_seq)
        return ArrivalGroup.objects.create(
            site=sites[site], short_code=f"G{n:07d}", arrived_at=at(arrived),
            reported_count=reported, client_key=uuid.uuid4(),
            created_by=users[Role.RECEPTION_OFFICER])

    return make


@pytest.fixture
def register(make_person, make_group):
    """Three days of arrivals at RHM, interned at NUR; a few at the other crossing ZZZ."""
    g1 = make_group(arrived=DAY1, reported=4)
    g2 = make_group(arrived=DAY1 + dt.timedelta(days=1), reported=3)
    people = [make_person(group=g1) for _ in range(3)]
    people.append(make_person(group=g1, status=Status.REFERRED_OUT, category=Category.CHILD,
                              current="RHM", birth_year=2012))
    people += [make_person(group=g2, arrived=DAY1 + dt.timedelta(days=1),
                           status=Status.REGISTERED, current="RHM") for _ in range(2)]
    people.append(make_person(group=g2, arrived=DAY1 + dt.timedelta(days=1),
                              status=Status.HOSPITALISED, sex="female"))
    people.append(make_person(site="ZZZ", current="ZZZ", arrived=DAY1 + dt.timedelta(days=2),
                              status=Status.ARRIVED))
    return people
