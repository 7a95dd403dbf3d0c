"""Migration 0004: persons registered before the upgrade get the keys of ``mawa.names``."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from mawa.reception import selectors
from mawa.reception.models import PersonAlias, PersonNameKey

migration = importlib.import_module("mawa.reception.migrations.0004_namekeys_from_mawa_names")

pytestmark = pytest.mark.django_db


class _Editor:
    connection = connection


def _keys(person) -> set:
    return set(PersonNameKey.objects.filter(person=person).values_list("part", "key"))


def test_old_keys_are_rewritten_as_a_registration_writes_them(register, officer, monkeypatch):
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches, one of them short
    persons = [register(given_ar="عبد الرحمن", given_lat="Abdul Rahman", family_ar="الخطيب",
                        service_number=f"M-{i}")[0] for i in range(5)]
    PersonAlias.objects.create(person=persons[1], name_ar="أبو خالد", name_lat="")
    written = {p.pk: _keys(p) for p in persons}
    written[persons[1].pk] |= {("alias", "abu|khalid")}
    # an installation from before: its own keys (the old normaliser joined ʿAbd compounds its
    # own way and kept each script apart)
    PersonNameKey.objects.all().delete()
    for p in persons:
        PersonNameKey.objects.bulk_create([
            PersonNameKey(person=p, part="given", key="عبدرحمن"),
            PersonNameKey(person=p, part="given", key="abdrahman"),
            PersonNameKey(person=p, part="family", key="خطيب")])
    assert selectors.person_search(user=officer, q="Abd al-Rahman").persons == []

    migration.recompute(apps, _Editor())

    assert {p.pk: _keys(p) for p in persons} == written
    found = selectors.person_search(user=officer, q="Abd al-Rahman").persons
    assert sorted(p.pk for p in found) == sorted(p.pk for p in persons)
    # run again (a migration stopped half-way is run again): the same rows
    migration.recompute(apps, _Editor())
    assert {p.pk: _keys(p) for p in persons} == written


def test_the_migration_reverses_as_a_no_op():
    (operation,) = migration.Migration.operations
    assert operation.reversible and migration.Migration.atomic is False
