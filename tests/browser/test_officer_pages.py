"""Issue 21 in a real headless Chromium: the pages as officers at the gate, in the depot and in
the camp use them (registration at a queue, surrender by name, roll call one-handed, menus
that only show what the role may open). Fixtures are the shared cast (``tests/conftest.py``)."""

import uuid

import pytest

from mawa.accounts.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A camera for the page without a device: getUserMedia answers a painted canvas's stream.
FAKE_CAMERA = """
navigator.mediaDevices.getUserMedia = function () {
  var c = document.createElement('canvas'); c.width = 64; c.height = 80;
  var g = c.getContext('2d');
  setInterval(function () { g.fillStyle = '#7a5230'; g.fillRect(0, 0, 64, 80); }, 30);
  return Promise.resolve(c.captureStream(10));
};
"""


def _register_khalil(sites, officer):
    from mawa.reception import services
    from mawa.reception.services import PersonInput

    person, _ = services.person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "محمد", "given_lat": "Mohammed",
                                 "father_ar": "أحمد", "grandfather_ar": "خليل",
                                 "family_ar": "الحلبي", "family_lat": "al-Halabi",
                                 "sex": "male", "service_number": "A-12345"},
                         birth="1990-03-15"))
    return person


def test_registration_at_the_queue(browser_page, login_in_browser, users, sites):
    from mawa.matching.models import MatchPair
    from mawa.reception.models import Person

    officer = users[Role.RECEPTION_OFFICER]
    existing = _register_khalil(sites, officer)
    page = browser_page
    page.add_init_script(FAKE_CAMERA)
    login_in_browser(page, officer.username, language="ar")
    page.goto(page.base + "/reception/persons/new/")
    # the hints look like hints: grey italic, not a value
    birth = page.locator("#id_birth")
    assert birth.input_value() == ""
    assert birth.evaluate("e => getComputedStyle(e, '::placeholder').fontStyle") == "italic"
    assert page.locator("#id_nationality").get_attribute("placeholder") is None

    page.fill("#id_given_ar", "محمد")
    page.fill("#id_father_ar", "أحمد")
    page.fill("#id_grandfather_ar", "بلال")
    page.fill("#id_family_ar", "الحلبي")
    page.fill("#id_service_number", "A-12345")
    card = page.locator(f"[data-testid=match][data-person='{existing.pk}']")
    card.wait_for()
    grandfather = card.locator("tr[data-part=grandfather]")
    assert grandfather.get_attribute("data-state") == "differs"
    assert "بلال" in grandfather.inner_text() and "خليل" in grandfather.inner_text()
    given = card.locator("tr[data-part=given] td").nth(1)
    assert given.locator("div").count() == 2  # Arabic and Latin each on its own line
    card.get_by_test_id("decide-not-match").click()
    page.wait_for_timeout(900)  # the panel refreshes on the click and keeps the choice
    assert page.locator(f"input[name='decide_{existing.pk}'][value=not_match]").is_checked()

    page.get_by_test_id("camera-start").click()
    page.get_by_test_id("camera-take").click()
    page.get_by_test_id("photo-preview").wait_for()
    assert page.locator("#id_photo").evaluate("e => e.files.length") == 1

    page.get_by_test_id("person-save").click()
    page.wait_for_selector("[data-testid=person-code]")
    new = Person.objects.exclude(pk=existing.pk).get()
    assert new.photo
    assert page.get_by_test_id("person-photo").evaluate("e => e.naturalWidth") > 0
    pair = MatchPair.objects.get()
    assert pair.decision == "not_match"

    # the empty sensitive section is filled from the person page
    page.get_by_test_id("sensitive-link").click()
    page.fill("#id_family_contact_name", "فاطمة")
    page.get_by_test_id("sensitive-save").click()
    page.wait_for_selector("[data-testid=person-code]")
    assert "فاطمة" in page.get_by_test_id("sensitive").inner_text()


def test_surrender_by_name_with_models_by_kind_and_markings(browser_page, login_in_browser,
                                                            users, sites):
    from mawa.custody.demo import catalogue_ensure
    from mawa.custody.models import Receipt
    from mawa.reception import services
    from mawa.reception.services import PersonInput

    catalogue_ensure()
    samer = services.person_register(
        actor=users[Role.RECEPTION_OFFICER], site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "سامر", "family_ar": "الخطيب",
                                 "given_lat": "Samer", "sex": "male",
                                 "service_number": "SN-7788"}))[0]
    page = browser_page
    login_in_browser(page, users[Role.CUSTODY_OFFICER].username, language="ar")
    page.goto(page.base + "/custody/surrender/")
    page.select_option("select[name=site]", str(sites["RHM"].pk))
    page.get_by_test_id("person-lookup").fill("سامر الخطيب")
    choice = page.get_by_test_id("person-choice")
    choice.wait_for()
    assert samer.short_code in page.get_by_test_id("person-choices").inner_text()
    choice.check()
    page.get_by_test_id("open-surrender").click()
    page.wait_for_selector("[data-testid=item-form]")
    assert Receipt.objects.get().person == samer

    def models_shown():
        return page.locator("select[name=catalogue]").evaluate(
            "s => Array.from(s.options).filter(o => o.dataset.kind && !o.hidden)"
            ".map(o => o.dataset.kind)")

    assert set(models_shown()) == {"weapon"}
    page.select_option("select[name=kind]", "vehicle")
    assert set(models_shown()) == {"vehicle"}
    page.select_option("select[name=kind]", "weapon")
    reason = page.locator("input[name=refusal_reason]")
    assert reason.is_hidden()  # accepted: no reason asked
    page.select_option("select[name=accepted]", "0")
    assert reason.is_visible()
    page.select_option("select[name=accepted]", "1")
    page.select_option("select[name=catalogue]", label="AKM (7.62×39 mm)")
    page.fill("input[name=serial_number]", "123456")
    page.fill("textarea[name=markings]", "ЖК 1984 ٧٧٣١")
    page.fill("input[name=cleared_by]", "Cpl. Salem")
    page.fill("input[name=verified_by]", "Lt. Nabil")
    page.get_by_test_id("add-item").click()
    page.wait_for_selector("[data-testid=item-markings]")
    assert "ЖК 1984" in page.get_by_test_id("item-markings").inner_text()
