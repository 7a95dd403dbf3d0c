"""Issue 21, raw data on screen: the compartment's event page names the recipients a source
consented to, and the evidence chain of custody names its steps and actors, in words."""

import datetime as dt

import pytest

from mawa.accountability import services
from tests.custody.test_display import SNAKE, visible

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language,expected", [
    ("ar", []), ("en", ["National prosecutor", "UN investigative mechanism"]),
])
def test_consent_recipients_by_label(client_for, investigator, event, source, language,
                                     expected):
    services.information_add(actor=investigator, source=source, event=event,
                             received_on=dt.date(2024, 11, 5))
    client = client_for(investigator)
    client.cookies["django_language"] = language
    text = visible(client.get(f"/accountability/events/{event.id}/").content.decode(),
                   "information")
    assert "national_prosecutor" not in text and "un_mechanism" not in text
    assert not SNAKE.findall(text), SNAKE.findall(text)
    for label in expected:
        assert label in text


@pytest.mark.parametrize("language,expected", [("ar", ["استُلم"]), ("en", ["Received"])])
def test_evidence_custody_in_words(client_for, investigator, evidence, language, expected):
    client = client_for(investigator)
    client.cookies["django_language"] = language
    text = visible(client.get(f"/accountability/evidence/{evidence.id}/").content.decode(),
                   "custody")
    assert "evidence." not in text and str(investigator.pk) not in text
    for label in expected:
        assert label in text
