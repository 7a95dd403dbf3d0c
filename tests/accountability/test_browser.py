"""In a real headless Chromium: the compartment does not exist for any other role (menu,
pages, search, API, counts), and an investigator records an allegation with evidence."""

import json
import uuid

import pytest

from mawa.accounts.roles import Role

from .conftest import SENTENCE, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Shelling of the Al-Qasr market"


def _sign_out(page):
    page.context.clear_cookies()


def test_the_compartment_is_invisible_to_every_other_role_and_works_for_investigators(
        browser_page, login_in_browser, users, persons, sites, tmp_path, settings):
    settings.MAWA_EVIDENCE_DIR = tmp_path / "evidence"
    page = browser_page

    # --- the investigator records an allegation with evidence --------------------------------
    login_in_browser(page, "investigator", language="en")
    assert page.locator("nav a[href='/accountability/']").count() == 1
    page.click("nav a[href='/accountability/']")
    page.click("[data-testid=event-new]")
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=description]", SENTENCE)
    page.fill("input[name=date_start]", "2024-11-02")
    page.fill("input[name=date_end]", "2024-11-04")
    page.click("[data-testid=event-save]")
    assert TITLE in page.locator("[data-testid=event-title]").inner_text()
    event_url = page.url

    page.click("summary:has-text('Add an act')")
    page.select_option("select[name=violation]", "8.2.b.i")
    page.click("[data-testid=act-save]")
    assert page.locator("[data-testid=act]").count() == 1
    page.fill("input[name=person_code]", persons[0].short_code)
    page.select_option("select[name=role]", "alleged_perpetrator")
    page.select_option("select[name=degree]", "direct")
    page.click("[data-testid=involvement-save]")
    assert persons[0].short_code in page.locator("[data-testid=involvement]").inner_text()

    evidence_file = tmp_path / "market.png"
    evidence_file.write_bytes(png_bytes())
    page.click("summary:has-text('Add evidence')")
    page.set_input_files("input[name=file]", str(evidence_file))
    page.fill("form[enctype] textarea[name=description]", "Crater, north side")
    page.click("[data-testid=evidence-save]")
    assert page.locator("[data-testid=evidence]").count() == 1
    import hashlib

    assert hashlib.sha256(png_bytes()).hexdigest() in page.locator(
        "[data-testid=evidence]").inner_text()

    # a file that lies about its type is refused, precisely, and nothing is added
    fake = tmp_path / "photo.png"
    fake.write_bytes(b"%PDF-1.4 not an image")
    page.click("summary:has-text('Add evidence')")
    page.set_input_files("input[name=file]", str(fake))
    page.click("[data-testid=evidence-save]")
    assert "not what its extension says" in page.content()
    page.goto(event_url)
    assert page.locator("[data-testid=evidence]").count() == 1

    page.goto(page.base + "/accountability/?q=Qasr")
    assert TITLE in page.content()
    event_id = event_url.rstrip("/").rsplit("/", 1)[1]
    _sign_out(page)

    # --- every other role: nothing -----------------------------------------------------------
    for role in [r for r in Role if r != Role.INVESTIGATOR] + ["outsider"]:
        user = users[role]
        login_in_browser(page, user.username, language="en")
        home = page.content()
        page.goto(page.base + f"/no-such-page-{uuid.uuid4().hex}/")
        unknown_title = page.title()
        assert "/accountability/" not in home, role
        assert "Accountability" not in page.locator("nav").inner_text(), role
        assert TITLE not in home
        for path in ("/accountability/", event_url.removeprefix(page.base),
                     "/accountability/?q=Qasr"):
            response = page.goto(page.base + path)
            assert response.status == 404, (role, path)
            assert page.title() == unknown_title
            assert TITLE not in page.content()
        for path in ("/api/accountability/events", f"/api/accountability/events/{event_id}"):
            response = page.goto(page.base + path)
            assert response.status == 404, (role, path)
            assert TITLE not in page.content()
        schema = page.goto(page.base + "/api/openapi.json")
        if schema.status == 200:
            assert "accountability/events" not in json.dumps(schema.json())
        # the registry's own person search and page carry no flag
        response = page.goto(page.base + f"/reception/persons/?q={persons[0].family_lat}")
        assert "alleged" not in page.content().lower()
        _sign_out(page)
