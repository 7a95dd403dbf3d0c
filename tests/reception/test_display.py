"""Issue 21, raw data on screen: the person page's history, corrections and vulnerabilities
show translated labels and names — no stored keys, no site codes, no True/False."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.reception.models import LifecycleEvent, PersonRevision
from tests.custody.test_display import SNAKE, visible
from tests.reception.test_person_page import CSV_GOOD, _upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def import_in_request(monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def person(register, users, sites):
    p, _created = register()
    p.vulnerabilities = ["wounded"]
    p.save(update_fields=["vulnerabilities"])
    officer = users[Role.RECEPTION_OFFICER]
    LifecycleEvent.objects.create(person=p, from_status="registered", to_status="interned",
                                  at=timezone.now(), actor=officer, site=sites["RHM"],
                                  details={"camp": "NUR"}, ledger_seq=2)
    LifecycleEvent.objects.create(person=p, from_status="interned", to_status="referred_out",
                                  at=timezone.now(), actor=officer, site=sites["NUR"],
                                  details={"referral_to": "ICRC"}, ledger_seq=3)
    PersonRevision.objects.create(person=p, version=1, actor=officer,
                                  prior={"category": "civilian", "service_number": ""})
    return p


@pytest.mark.parametrize("language,expected", [
    ("ar", ["مخيم النور", "المخيم", "أُحيل إلى"]),
    ("en", ["Camp", "Referred to", "ICRC"]),
])
def test_person_history_shows_labels_and_site_names(client_for, users, sites, person,
                                                    language, expected):
    client = client_for(users[Role.RECEPTION_OFFICER])
    client.cookies["django_language"] = language
    html = client.get(reverse("reception:person_detail", args=[person.id])).content.decode()
    text = visible(html, "history")
    assert not SNAKE.findall(text), SNAKE.findall(text)
    assert not re.search(r"\bNUR\b", text) and "True" not in text and "False" not in text
    for label in expected:
        assert label in text, (label, text)
    if language == "en":
        assert sites["NUR"].name_en in text
    revisions = visible(html, "revisions")
    assert not SNAKE.findall(revisions), SNAKE.findall(revisions)
    assert "civilian" not in revisions
    assert "wounded" not in html.split('data-testid="history"')[0]


@pytest.mark.parametrize("language,expected", [
    ("ar", ["الاسم (بالعربية)", "تاريخ الميلاد", "رقم الوثيقة"]),
    ("en", ["Date of birth", "Document number"]),
])
@pytest.mark.usefixtures("import_in_request")
def test_import_mapping_offers_field_labels(client_for, users, language, expected):
    client = client_for(users[Role.RECEPTION_OFFICER])
    client.cookies["django_language"] = language
    token = _upload(client, CSV_GOOD)
    html = client.get(reverse("reception:import_preview", args=[token])).content.decode()
    mapping = html.split('data-testid="import-mapping"', 1)[1].split("</table>", 1)[0]
    shown = " ".join(re.findall(r">([^<>]+)</option>", mapping))
    assert not SNAKE.findall(shown), SNAKE.findall(shown)
    for label in expected:
        assert label in shown, (label, shown)
    assert 'value="given_ar"' in mapping  # the stored key still goes back to the server
