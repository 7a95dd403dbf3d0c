"""protection.md R17: every field of the reception models has a purpose, tier and retention."""

import pytest
from django.apps import apps

from mawa.reception.fieldinfo import REGISTRY, RETENTION, TIER_LABELS


@pytest.mark.parametrize("label", sorted(REGISTRY))
def test_every_model_field_is_labelled(label):
    model = apps.get_model(label)
    names = {f.name for f in model._meta.get_fields() if f.concrete}
    missing = names - set(REGISTRY[label])
    assert not missing, f"{label}: fields without purpose/tier/retention: {sorted(missing)}"


@pytest.mark.parametrize("label", sorted(REGISTRY))
def test_no_label_names_a_field_that_does_not_exist(label):
    model = apps.get_model(label)
    names = {f.name for f in model._meta.get_fields() if f.concrete}
    assert set(REGISTRY[label]) <= names


def test_every_personal_model_of_the_app_is_in_the_registry():
    personal = {"person", "arrivalgroup", "identitydocument", "personalias"}
    models = {m._meta.model_name for m in apps.get_app_config("reception").get_models()}
    assert personal <= models
    assert {f"reception.{m}" for m in personal} == set(REGISTRY)


def test_labels_use_known_tiers_and_retention_periods():
    for fields in REGISTRY.values():
        for info in fields.values():
            assert info.tier in TIER_LABELS
            assert info.retention in RETENTION
            assert str(info.purpose)
