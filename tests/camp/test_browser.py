"""Done when: the morning roll call on a phone finds the missing person; a distribution
refused by a rule shows its reason."""

import uuid

import pytest

from mawa.camp import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_morning_roll_call_on_a_phone_finds_the_missing_person(browser_page, login_in_browser,
                                                               housed, layout):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    login_in_browser(page, "camp_staff")
    page.goto(page.base + "/camp/rollcalls/")
    page.select_option("select[name=block]", str(layout["A1"].id))
    page.select_option("select[name=mode]", "scan")  # head count is the default (issue 21)
    page.click("form button.btn-lg")
    for p in housed[1:]:
        page.fill("input[name=code]", p.short_code)
        page.press("input[name=code]", "Enter")
        page.wait_for_selector("[data-testid=last-scan]")
    page.click("[data-testid=rc-close]")
    assert page.inner_text("[data-testid=rc-missing]").strip() in ("1", "١")
    assert housed[0].short_code in page.inner_text("[data-testid=missing-list]")
    # nothing is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path="/tmp/camp-rollcall-375-ar.png", full_page=True)


def test_a_distribution_refused_by_a_rule_shows_the_reason(browser_page, login_in_browser,
                                                           housed, camp, manager, staff):
    lunch = services.item_type_create(actor=manager, site=camp, client_key=uuid.uuid4(), data={
        "name_ar": "غداء", "name_en": "Lunch", "max_per_day": 1})
    services.stock_adjust(actor=manager, item=lunch, quantity=5, reason="delivery",
                          client_key=uuid.uuid4())
    services.distribution_record(actor=staff, item=lunch, person=housed[0],
                                 client_key=uuid.uuid4())
    page = browser_page
    login_in_browser(page, "camp_staff", language="en")
    page.goto(page.base + "/camp/distributions/")
    page.fill("input[name=code]", housed[0].short_code)
    page.click("form button.btn-lg")
    text = page.inner_text("[data-testid=refusal]")
    assert "maximum per day" in text and housed[0].short_code in text
    page.screenshot(path="/tmp/camp-distribution-en.png", full_page=True)
