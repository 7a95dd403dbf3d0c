"""The reception demo scenario: counts, separation, lifecycle history and a verifying ledger."""

import pytest
from django.db.models import Count

from mawa.core.ledger import ledger_verify
from mawa.core.models import LedgerEntry
from mawa.reception import demo
from mawa.reception.models import ArrivalGroup, Category, LifecycleEvent, Person, Status


@pytest.fixture
def loaded(sites, users):
    demo.demo_load(sites=sites, users=users)


def test_it_receives_about_four_thousand_people_in_several_groups(loaded):
    assert 3800 <= Person.objects.count() <= 4200
    groups = ArrivalGroup.objects.all()
    assert groups.count() >= 4
    assert any("محافظ" in g.facilitated_by for g in groups)
    assert len({g.arrived_at.date() for g in groups}) == 3


def test_most_are_interned_at_the_camp_and_separated_people_are_referred_out(loaded, sites):
    interned = Person.objects.filter(status=Status.INTERNED, current_site=sites["NUR"]).count()
    assert interned > Person.objects.count() * 0.8
    separated = Person.objects.exclude(category=Category.COMBATANT)
    assert separated.filter(category=Category.CHILD).exists()
    assert separated.filter(category=Category.CIVILIAN).exists()
    assert set(separated.values_list("status", flat=True)) == {Status.REFERRED_OUT}
    assert not separated.filter(referral_to="").exists()
    assert not Person.objects.filter(category=Category.COMBATANT,
                                     status=Status.REFERRED_OUT).exists()


def test_names_are_arabic_with_varied_latin_spellings(loaded):
    latin = set(Person.objects.filter(given_ar="محمد").exclude(given_lat="")
                .values_list("given_lat", flat=True))
    assert {"Mohammed", "Muhammad", "Mhd"} <= latin
    assert Person.objects.filter(given_lat="").exists()  # some have no Latin spelling


def test_every_move_has_its_history_row_and_ledger_entry(loaded):
    person = Person.objects.filter(status=Status.INTERNED).first()
    steps = list(person.events.values_list("to_status", flat=True))
    assert steps == [Status.ARRIVED, Status.DISARMED, Status.REGISTERED, Status.INTERNED]
    stream = LedgerEntry.objects.filter(stream=f"person/{person.id}").order_by("seq")
    assert [e.kind for e in stream] == ["person.registered"] + ["person.transition"] * 3
    assert LifecycleEvent.objects.count() == LedgerEntry.objects.filter(
        stream__startswith="person/").count()
    assert ledger_verify().ok


def test_the_last_group_is_still_being_processed(loaded):
    last = ArrivalGroup.objects.order_by("-arrived_at").first()
    statuses = dict(last.persons.values_list("status").annotate(n=Count("id")))
    assert statuses.get(Status.ARRIVED) and statuses.get(Status.INTERNED)
    assert last.persons.count() < last.reported_count


def test_the_generated_people_are_the_same_on_every_load():
    import datetime as dt
    import random

    def draw():
        rng = random.Random(demo.SEED)
        arrived = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return [demo._person(rng, arrived=arrived, formation="f", unit="u", iraqi_share=0.3,
                             kind="combatant").values for _ in range(50)]

    assert draw() == draw()
