"""Issue 21, raw data on screen: the item history and the reconciliation show labels, names
and words — no stored keys, no True/False, no ``custody/RHM#`` stream references."""

import re
from html.parser import HTMLParser

import pytest

from mawa.custody import services
from mawa.custody.models import Kind

pytestmark = pytest.mark.django_db

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


class _Text(HTMLParser):
    def __init__(self, testid: str):
        super().__init__()
        self.testid, self.depth, self.parts = testid, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("data-testid") == self.testid:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def visible(html: str, testid: str) -> str:
    """The visible text inside the element marked ``data-testid=testid``."""
    p = _Text(testid)
    p.feed(html)
    text = " ".join(p.parts)
    assert text.strip(), f"nothing rendered in {testid}"
    return text


def _assert_clean(text: str):
    assert not SNAKE.findall(text), SNAKE.findall(text)
    assert "True" not in text and "False" not in text
    assert "custody/" not in text and "#" not in text


@pytest.mark.parametrize("language,expected", [
    ("ar", ["سلّمه", "القيد رقم", "الرقم التسلسلي مسجل على قطعة أخرى", "بواسطة", "البطاقة"]),
    ("en", ["Handed in by", "Ledger entry", "Serial seen on another item", "Condition",
            "Serviceable", "Marking integrity", "Intact", "By", "Tag", "Store", "Gate armoury",
            "To site"]),
])
def test_item_history_shows_labels_not_keys(client_for, officer, surrender, gate_store, depot,
                                            language, expected):
    item = surrender()
    services.item_event_record(actor=officer, item=item, kind="stored",
                               data={"store": str(gate_store.pk), "rack": "R2"})
    services.item_event_record(actor=officer, item=item, kind="dispatched",
                               data={"to_site": "DEP", "escort": "Sgt. Omar"})
    client = client_for(officer)
    client.cookies["django_language"] = language
    html = client.get(f"/custody/items/{item.short_code}/").content.decode()
    text = visible(html, "history")
    _assert_clean(text)
    for label in expected:
        assert label in text, (label, text)
    assert depot.name_ar in text if language == "ar" else depot.name_en in text


@pytest.mark.parametrize("language,expected", [
    ("ar", ["بنادق هجومية"]), ("en", ["Assault rifles", "Ammunition lot"]),
])
def test_reconciliation_shows_kinds_categories_and_sites_by_name(
        client_for, officer, surrender, sites, language, expected):
    surrender()
    surrender(kind=Kind.AMMUNITION)
    client = client_for(officer)
    client.cookies["django_language"] = language
    text = visible(client.get("/custody/reconciliation/").content.decode(), "reconciliation")
    assert not re.search(r"\b(weapon|ammunition|vehicle)\b", text)
    assert "SA-assault" not in text and "LW-" not in text
    for label in expected:
        assert label in text, (label, text)
    assert (sites["RHM"].name_ar if language == "ar" else sites["RHM"].name_en) in text
