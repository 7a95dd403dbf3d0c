"""The kernel's display layer turns stored keys and values into what a person reads."""

import pytest
from django.utils import translation

from mawa.core import display
from mawa.core.models import Site, SiteKind

pytestmark = pytest.mark.django_db


def test_choices_fields_booleans_and_sites_in_words(sites):
    with translation.override("en"):
        assert display.choice_label(Site, "kind", SiteKind.CAMP) == str(SiteKind.CAMP.label)
        assert display.choice_label(Site, "kind", "") == "—"
        assert display.field_label(Site, "name_ar") == "Name in Arabic"
        assert display.field_label(Site, "no_such_key") == "No such key"
        assert display.field_label(Site, "x", {"x": "given"}) == "Given"
        assert (display.value_text(True), display.value_text(False)) == ("yes", "no")
        assert display.value_text(None) == "—"
        pairs = display.labelled({"kind": "camp", "where": "NUR", "ok": True, "hash": "h"},
                                 model=Site, sites=("where",), hide=("hash",))
        assert pairs == [("Kind", str(SiteKind.CAMP.label)), ("Where", sites["NUR"].name_en),
                         ("Ok", "yes")]
        assert display.stream_label("custody/NUR") == f"Custody at {sites['NUR'].name_en}"
        assert display.stream_label("person/0190-abc") == "A person's record"
    with translation.override("ar"):
        assert display.value_text(True) == "نعم"
        assert display.stream_label("camp/NUR") == f"سجل المخيم في {sites['NUR'].name_ar}"
