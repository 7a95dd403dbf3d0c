"""Issue 21, raw data on screen: the ledger page names streams in words (no
``person/<uuid>``, no ``custody/RHM``) and counts them in Arabic with Arabic plurals."""

import re
import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.core.ledger import ledger_append
from tests.custody.test_display import visible

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language,expected", [
    ("ar", ["سجل شخص", "العهدة في معبر وادي الرحمة"]),
    ("en", ["A person's record", "Custody at"]),
])
def test_ledger_streams_in_words(client_for, users, sites, language, expected):
    pid = uuid.uuid4()
    ledger_append(stream=f"person/{pid}", kind="person.created", payload={"n": 1},
                  site=sites["RHM"])
    ledger_append(stream="custody/RHM", kind="custody.surrendered", payload={"n": 1},
                  site=sites["RHM"])
    client = client_for(users[Role.AUDITOR])
    client.cookies["django_language"] = language
    html = client.get("/ledger/").content.decode()
    text = visible(html, "streams")
    assert str(pid) not in text and "person/" not in text and "custody/" not in text
    for label in expected:
        assert label in text, (label, text)
    if language == "ar":
        head = html.split("<h1", 1)[1].split("<form", 1)[0]
        assert not re.search(r"\d+ streams?\b", head) and re.search("سلاسل|سلسلتان|سلسلة", head)


def test_the_user_chooses_arabic_indic_digits_on_the_settings_page(users, client_for, sites):
    """The preference is the user's own; it changes how dates and codes are shown."""
    from mawa.accounts.models import User
    from mawa.accounts.roles import Role

    user = users[Role.RECEPTION_OFFICER]
    client = client_for(user)
    client.cookies["django_language"] = "ar"
    page = client.get("/accounts/settings/")
    assert page.status_code == 200 and "الأرقام الهندية العربية" in page.content.decode()
    assert client.post("/accounts/settings/", {"digits": "arabic"}).status_code == 302
    assert User.objects.get(pk=user.pk).digits == "arabic"
    assert client.post("/accounts/settings/", {"digits": "roman"}).status_code == 200
    assert User.objects.get(pk=user.pk).digits == "arabic"
    body = client.get("/accounts/sessions/").content.decode()
    assert "٢٠" in body  # the session's start, its year in Arabic-Indic digits
