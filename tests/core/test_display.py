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


def test_one_date_format_per_language_and_the_chosen_digits():
    import datetime as dt

    from django.template import Context, Template

    day = dt.date(2024, 11, 2)
    moment = dt.datetime(2024, 11, 2, 14, 30, tzinfo=dt.UTC)
    with translation.override("en"):
        assert display.day_text(day) == "2 Nov 2024"
        assert display.when_text(moment) == "2 Nov 2024, 14:30"
        assert display.day_text(moment) == "2 Nov 2024"
        assert display.day_text(None) == "—"
        # an English page keeps Latin digits whatever the preference
        token = display.digits_activate(display.ARABIC_INDIC)
        try:
            assert display.number_text("RHM-04238-L") == "RHM-04238-L"
        finally:
            display.digits_reset(token)
    with translation.override("ar"):
        assert display.day_text(day) == "2 نوفمبر 2024"
        assert display.when_text(moment) == "2 نوفمبر 2024، 14:30"
        # a bare date on a page (no filter) reads the same: FORMAT_MODULE_PATH
        assert Template("{{ d }}").render(Context({"d": day})) == "2 نوفمبر 2024"
        token = display.digits_activate(display.ARABIC_INDIC)
        try:
            assert display.day_text(day) == "٢ نوفمبر ٢٠٢٤"
            assert display.number_text("RHM-04238-L") == "RHM-٠٤٢٣٨-L"
            assert display.value_text(75) == "٧٥"
            html = Template("{% load mawa_display %}{{ d|day }}").render(Context({"d": day}))
            assert html == ('<time class="when" dir="auto" datetime="2024-11-02">'
                            "٢ نوفمبر ٢٠٢٤</time>")
        finally:
            display.digits_reset(token)
        assert display.number_text(75) == "75"  # Latin again once the request is over
