"""The grouping rules of ``group_plan`` (pure: unsaved persons and shelters, no database)."""

import math
import random
import uuid
from collections import defaultdict

from mawa.camp.models import Shelter
from mawa.camp.services import GroupPolicy, group_plan
from mawa.reception.models import Person


def _people(units: dict[str, int], rank: str = "Private") -> list[Person]:
    people, n = [], 0
    for unit, size in units.items():
        for _ in range(size):
            n += 1
            people.append(Person(short_code=f"RHM-{n:05d}-X", unit=unit, rank=rank))
    return people


def _shelters(count: int, capacity: int) -> list[Shelter]:
    return [Shelter(id=uuid.uuid4(), name=f"T{k}", capacity=capacity) for k in range(count)]


def _shelters_of_each_unit(placements) -> dict[str, set]:
    where = defaultdict(set)
    for p in placements:
        where[p.person.unit].add(p.shelter.id)
    return where


def test_keep_units_puts_each_unit_that_fits_in_one_shelter_in_exactly_one():
    units = {"1st Coy": 9, "2nd Coy": 6, "Signals": 4, "HQ": 3, "Medics": 2}
    placements, unplaced = group_plan(persons=_people(units), shelters=_shelters(6, 10),
                                      policies=[GroupPolicy.KEEP_UNITS], occupants={})
    assert unplaced == [] and len(placements) == sum(units.values())
    assert {u: len(s) for u, s in _shelters_of_each_unit(placements).items()} == dict.fromkeys(
        units, 1)


def test_keep_units_uses_the_fewest_shelters_for_a_unit_larger_than_one():
    units = {"1st Bn": 23, "Recce": 7}
    placements, unplaced = group_plan(persons=_people(units), shelters=_shelters(8, 10),
                                      policies=[GroupPolicy.KEEP_UNITS], occupants={})
    where = _shelters_of_each_unit(placements)
    assert unplaced == []
    assert len(where["1st Bn"]) == math.ceil(23 / 10)
    assert len(where["Recce"]) == 1


def test_keep_units_holds_for_random_groups_whenever_every_unit_fits_a_shelter():
    rng = random.Random(5)  # noqa: S311 - a fixed sample of groups, not a secret
    for _ in range(50):
        units = {f"U{k}": rng.randint(1, 8) for k in range(rng.randint(2, 12))}
        shelters = _shelters(sum(units.values()) // 8 + len(units), 8)
        placements, unplaced = group_plan(persons=_people(units), shelters=shelters,
                                          policies=[GroupPolicy.KEEP_UNITS], occupants={})
        assert unplaced == []
        assert all(len(s) == 1 for s in _shelters_of_each_unit(placements).values()), units


def test_without_keep_units_the_same_group_may_be_spread():
    units = {"A": 4, "B": 4}
    placements, _ = group_plan(persons=_people(units), shelters=_shelters(4, 8),
                               policies=[GroupPolicy.SPLIT_UNITS], occupants={})
    assert all(len(s) == 4 for s in _shelters_of_each_unit(placements).values())
