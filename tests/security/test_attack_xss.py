"""Attack test 10 (XSS on every field, Arabic, Cyrillic and RTL names) through the real browser:
hostile text stored through the reception services and typed into the pages never runs as
script, and shows as plain text."""

from __future__ import annotations

import uuid

import pytest

from mawa.accounts.roles import Role

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SVG = "<svg onload=window.__xss=1>"
RTL = "حلب\u202eexe.txt\u202c"  # Arabic with a right-to-left override
CYRILLIC = "Иван Петрович Сидоров"


def _register(actor, site, values, birth="1990"):
    from mawa.reception import services
    from mawa.reception.services import PersonInput

    return services.person_register(actor=actor, site=site, client_key=uuid.uuid4(),
                                    data=PersonInput(values=values, birth=birth))[0]


def _clean(page, where):
    assert page.evaluate("window.__xss") is None, f"script ran on {where}"
    assert page.evaluate("window.__xss_dialog") is None, f"dialog opened on {where}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_text_never_runs_in_the_reception_pages(browser_page, login_in_browser, users,
                                                        sites):
    """Attack 10: stored and typed XSS, RTL override and Cyrillic render as inert text."""
    from mawa.core.errors import ValidationFailed

    officer = users[Role.RECEPTION_OFFICER]
    rhm = sites["RHM"]
    # first barrier: a name part holds only letters of one script, so markup, an RTL override
    # and Cyrillic are refused before they are stored
    for field, value in (("given_lat", SCRIPT), ("given_lat", IMG), ("given_ar", RTL),
                         ("given_lat", CYRILLIC), ("family_ar", "محمد" + SCRIPT)):
        with pytest.raises(ValidationFailed):
            _register(officer, rhm, {"given_ar": "علي", field: value, "sex": "male"})
    # second barrier: free-text fields keep the text as typed, and the pages escape it
    person = _register(officer, rhm, {
        "given_ar": "محمد", "given_lat": "Mohammed", "family_lat": "Haddad", "sex": "male",
        "unit": SCRIPT, "rank": IMG, "place_of_birth": RTL,
        "notes": f"{CYRILLIC} {SCRIPT}\n{SVG}", "vulnerability_notes": IMG + SCRIPT})
    assert person.unit == SCRIPT

    page = browser_page
    page.on("dialog", lambda d: (page.evaluate("window.__xss_dialog = 1"), d.dismiss()))
    login_in_browser(page, officer.username, language="ar")

    page.goto(page.base + "/reception/persons/")
    page.wait_for_load_state()
    assert person.short_code in page.inner_text("body")
    _clean(page, "person list")

    page.goto(page.base + f"/reception/persons/{person.id}/")
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert page.inner_text("[data-testid=unit]").strip() == SCRIPT  # visible as text
    assert IMG in body and CYRILLIC in body and "<svg" in body
    assert page.locator("img[src=x]").count() == 0 and page.locator("svg[onload]").count() == 0
    _clean(page, "person page")

    # the search form POSTs; the typed text comes back in the field, never as markup
    for q in (SCRIPT, IMG + "' OR 1=1 --", RTL, CYRILLIC, "Mohammed"):
        page.goto(page.base + "/reception/persons/")
        page.fill("[data-testid=search]", q)
        page.press("[data-testid=search]", "Enter")
        page.wait_for_load_state()
        assert page.input_value("[data-testid=search]") == q
        _clean(page, f"search {q!r}")
    assert person.short_code in page.inner_text("body")  # the last search found him

    # the registration page's match panel, fed hostile text while typing
    page.goto(page.base + "/reception/persons/new/")
    page.fill("#id_given_lat", "Mohammed")
    page.fill("#id_family_lat", "Haddad")
    page.wait_for_selector("#matches [data-testid=matches]")
    assert person.short_code in page.inner_text("#matches")
    _clean(page, "match panel")
    for value in (SCRIPT, IMG, RTL, CYRILLIC):
        page.fill("#id_given_lat", value)
        page.fill("#id_given_ar", value)
        page.wait_for_timeout(900)  # the panel asks 400 ms after the last keystroke
        page.wait_for_load_state("networkidle")
        _clean(page, f"match panel {value!r}")
    assert page.locator("#matches script, #matches img").count() == 0
