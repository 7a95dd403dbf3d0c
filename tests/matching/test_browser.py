"""In a real headless Chromium: the duplicate suggestion while typing, and deciding a pair."""

import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.matching.models import MatchPair, PairKind
from mawa.reception import services
from mawa.reception.services import PersonInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _register(officer, site, birth="1988-04-12", **values):
    person, _ = services.person_register(actor=officer, site=site, client_key=uuid.uuid4(),
                                         data=PersonInput(values={"sex": "male", **values},
                                                          birth=birth))
    return person


def test_the_suggestion_appears_while_typing_another_spelling(browser_page, login_in_browser,
                                                              users, sites):
    officer = users[Role.RECEPTION_OFFICER]
    homsi = _register(officer, sites["RHM"], given_ar="محمد", father_ar="خالد",
                      grandfather_ar="حسن", family_ar="الحمصي")
    page = browser_page
    login_in_browser(page, officer.username, language="en")
    page.goto(page.base + "/reception/persons/new/")
    page.wait_for_selector("[data-testid=person-form]")
    page.type("#id_given_lat", "Muhammad", delay=20)
    page.type("#id_father_lat", "Khaled", delay=20)
    page.type("#id_family_lat", "al-Homsi", delay=20)
    panel = page.wait_for_selector("#matches [data-testid=matches]")
    text = panel.inner_text()
    assert homsi.short_code in text
    assert "given name" in text  # what speaks for it, in words


def test_a_reviewer_decides_a_pair_side_by_side(browser_page, login_in_browser, users, sites):
    officer = users[Role.RECEPTION_OFFICER]
    first = _register(officer, sites["RHM"], given_ar="يوسف", father_ar="عبد الرحمن",
                      family_ar="الخطيب", place_of_birth="Idlib")
    second = _register(officer, sites["RHM"], given_lat="Youssef", father_lat="Abdelrahman",
                       family_lat="El-Khatib", place_of_birth="Idlib")
    pair = MatchPair.objects.get(kind=PairKind.DUPLICATE)
    page = browser_page
    login_in_browser(page, users[Role.PROTECTION_OFFICER].username, language="ar")
    page.goto(page.base + "/matching/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.click("[data-testid=pair-row] a")
    page.wait_for_selector("[data-testid=side-by-side]")
    table = page.inner_text("[data-testid=side-by-side]")
    assert first.short_code in table and second.short_code in table and "Youssef" in table
    assert "اسم الأب" in page.inner_text("[data-testid=explanation]")
    page.check("input[name=decision][value=match]")
    page.check(f"input[name=survivor][value='{first.pk}']")
    page.fill("textarea[name=reason]", "نفس الرقم العسكري وتاريخ الولادة")
    page.click("[data-testid=decision-form] button[type=submit]")
    page.wait_for_selector("[data-testid=queue-empty]")
    assert "سُجّل القرار" in page.content()
    pair.refresh_from_db()
    assert pair.decision == "match" and pair.merge.survivor == first
