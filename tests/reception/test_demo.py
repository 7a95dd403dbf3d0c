"""The reception side of the demo (the seed's days): groups at the Al-Qaim crossing as the
governor's office reported them, separation, lifecycle history and a verifying ledger.

The story's figures at full size are checked on the plan (no database) and by
tests/reports/test_demo.py on the full demo; here the demo is replayed small."""

import datetime as dt
import random

import pytest

from mawa.core.ledger import ledger_verify
from mawa.core.models import LedgerEntry
from mawa.demo import loader
from mawa.reception import demo
from mawa.reception.models import ArrivalGroup, Category, LifecycleEvent, Person, Status


@pytest.fixture
def loaded(db, settings, tmp_path):
    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    loader.demo_load(size=400)


def test_the_story_brings_some_4200_soldiers_in_groups_of_300_to_1200_over_four_days():
    plans = demo.groups_plan()
    assert 4000 <= sum(p.registered for p in plans) <= 4400
    assert all(300 <= p.reported <= 1200 for p in plans)
    assert all(p.reported >= p.registered for p in plans)
    assert sorted({p.day for p in plans}) == [0, 1, 2, 3]
    small = demo.groups_plan(400)
    assert 380 <= sum(p.registered for p in small) <= 420
    assert [p.day for p in small] == [p.day for p in plans]


def test_groups_are_reported_by_the_governors_office_and_everyone_is_processed(loaded):
    groups = list(ArrivalGroup.objects.order_by("arrived_at"))
    assert len(groups) == len(demo.GROUPS)
    assert len({g.arrived_at.date() for g in groups}) == 4
    assert all(g.facilitated_by == demo.FACILITATOR for g in groups)
    assert all(g.reported_count > g.persons.count() for g in groups)
    assert {g.site.code for g in groups} == {"QAM"}

    # most are interned at the camp; civilians and children are separated and referred out
    interned = Person.objects.filter(status=Status.INTERNED, current_site__code="NUR").count()
    assert interned > Person.objects.count() * 0.9
    separated = Person.objects.exclude(category=Category.COMBATANT)
    assert separated.filter(category=Category.CIVILIAN).exists()
    assert set(separated.values_list("status", flat=True)) == {Status.REFERRED_OUT}
    assert not separated.filter(referral_to="").exists()
    # nobody of a group is left at the gate: those still "arrived" are the registrations
    # waiting in the duplicates' review queue (no group)
    assert not Person.objects.filter(status=Status.ARRIVED, group__isnull=False).exists()

    # every move has its history row and ledger entry, at the moment of the story
    person = Person.objects.filter(status=Status.INTERNED, group=groups[0]).first()
    steps = list(person.events.order_by("at").values_list("to_status", "at"))
    assert [s for s, _at in steps] == [Status.ARRIVED, Status.DISARMED, Status.REGISTERED,
                                       Status.INTERNED]
    assert steps[0][1] == groups[0].arrived_at
    assert all(a < b for (_s, a), (_t, b) in zip(steps, steps[1:], strict=False))
    assert steps[-1][1].date() == groups[0].arrived_at.date()
    stream = LedgerEntry.objects.filter(stream=f"person/{person.id}").order_by("seq")
    assert [e.kind for e in stream] == ["person.registered"] + ["person.transition"] * 3
    assert stream.first().ts.startswith(groups[0].arrived_at.date().isoformat())
    assert LifecycleEvent.objects.count() == LedgerEntry.objects.filter(
        stream__startswith="person/").count()
    assert ledger_verify().ok


def test_names_are_arabic_with_varied_latin_spellings():
    rng = random.Random(demo.SEED)
    arrived = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    people = [demo._person(rng, arrived=arrived, formation="f", unit="u", iraqi_share=0.05,
                           kind="combatant").values for _ in range(2000)]
    latin = {p.get("given_lat") for p in people if p["given_ar"] == "محمد"}
    assert {"Mohammed", "Muhammad", "Mhd"} <= latin
    assert any("given_lat" not in p for p in people)  # some have no Latin spelling


def test_the_generated_people_are_the_same_on_every_load():
    def draw():
        rng = random.Random(demo.SEED)
        arrived = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return [demo._person(rng, arrived=arrived, formation="f", unit="u", iraqi_share=0.3,
                             kind="combatant").values for _ in range(50)]

    assert draw() == draw()
