"""Catalogue models and stores carry an Arabic name, shown on Arabic pages (issue 21); the
seed catalogue has one for every entry."""

import importlib

from django.utils import translation

from mawa.custody.models import MaterielModel, Store

SEED = importlib.import_module("mawa.custody.migrations.0002_catalogue_seed")
NAMES = importlib.import_module("mawa.custody.migrations.0006_materiel_and_store_arabic_names")


def test_every_catalogue_entry_of_the_seed_has_an_arabic_name():
    seeded = {m[1] for m in SEED.MODELS + NAMES.MORE_MODELS}
    assert seeded <= set(NAMES.ARABIC)
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in ar) for ar in NAMES.ARABIC.values())


def test_names_follow_the_active_language():
    store = Store(name="Gate armoury", name_ar="مستودع البوابة")
    akm = MaterielModel(name="AKM", name_ar="بندقية كلاشنكوف AKM", calibre="7.62×39 mm")
    bare = MaterielModel(name="Type 99")
    with translation.override("ar"):
        assert str(store) == store.display_name == "مستودع البوابة"
        assert str(akm) == "بندقية كلاشنكوف AKM (7.62×39 mm)"
        assert bare.display_name == "Type 99"  # no Arabic name: the designation
    with translation.override("en"):
        assert str(store) == "Gate armoury"
        assert str(akm) == "AKM (7.62×39 mm)"
