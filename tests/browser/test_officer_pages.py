"""Issue 21 in a real headless Chromium: the pages as officers at the gate, in the depot and in
the camp use them (registration at a queue, surrender by name, roll call one-handed, menus
that only show what the role may open). Fixtures are the shared cast (``tests/conftest.py``)."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from mawa.accounts.roles import Role
from mawa.core.models import Site

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
    # the photo is served and decodes (waited for: on a busy machine it may still be loading)
    page.wait_for_function(
        "() => { const e = document.querySelector('[data-testid=person-photo]');"
        " return e && e.complete; }", timeout=15000)
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
    from mawa.custody.models import MaterielModel

    # by its id: on this Arabic page the label is the model's Arabic name
    page.select_option("select[name=catalogue]", str(MaterielModel.objects.get(name="AKM").pk))
    page.fill("input[name=serial_number]", "123456")
    page.fill("textarea[name=markings]", "ЖК 1984 ٧٧٣١")
    page.fill("input[name=cleared_by]", "Cpl. Salem")
    page.fill("input[name=verified_by]", "Lt. Nabil")
    page.get_by_test_id("add-item").click()
    page.wait_for_selector("[data-testid=item-markings]")
    assert "ЖК 1984" in page.get_by_test_id("item-markings").inner_text()


def test_roll_call_one_handed_on_a_phone(browser_page, login_in_browser, users, sites):
    from mawa.camp import services
    from mawa.camp.models import RollCall
    from mawa.core.services import short_code_next
    from mawa.reception.models import Person

    manager, staff = users[Role.CAMP_MANAGER], users[Role.CAMP_STAFF]
    zone = services.zone_create(actor=manager, site=sites["NUR"], name="A")
    block = services.block_create(actor=manager, zone=zone, name="A1", x=10, y=10)
    t1 = services.shelter_create(actor=manager, block=block, name="T1", capacity=3)
    t2 = services.shelter_create(actor=manager, block=block, name="T2", capacity=3)
    from django.utils import timezone

    now = timezone.now()
    for i, shelter in enumerate((t1, t1, t2)):
        p = Person.objects.create(
            site=sites["RHM"], short_code=short_code_next(site=sites["RHM"]),
            client_key=uuid.uuid4(), content_hash=f"{i}" * 64, current_site=sites["NUR"],
            arrived_at=now, status_changed_at=now, status="interned", given_lat=f"P{i}",
            registered_by=users[Role.RECEPTION_OFFICER])
        services.assignment_check_in(actor=staff, person=p, client_key=uuid.uuid4(),
                                     shelter=shelter)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 800})
    login_in_browser(page, staff.username, language="ar")
    page.goto(page.base + "/camp/rollcalls/")
    assert page.locator("select[name=mode]").input_value() == "count"  # head count default
    start = page.get_by_test_id("rc-start")
    assert start.bounding_box()["height"] >= 56  # a big button, not a text link
    page.select_option("select[name=block]", str(block.id))
    start.click()
    page.get_by_test_id("rc-count-form").wait_for()
    row = page.locator("[data-counter]").first
    for _ in range(2):
        row.locator("[data-step='1']").click()
    expect(page.get_by_test_id("rc-scanned")).to_have_text(re.compile(r"^\s*[2٢]\s*$"))
    page.get_by_test_id("rc-saved").wait_for()
    page.reload()  # saved on the server, not only on the screen
    assert page.get_by_test_id("rc-scanned").inner_text().strip() in ("2", "٢")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("rc-close").click()  # T2 left empty: one missing there
    page.get_by_test_id("count-findings").wait_for()
    said = page.get_by_test_id("count-missing").inner_text()
    assert "-" not in said and "مفقود" in said
    page.get_by_test_id("next-shelter").click()
    assert f"/camp/shelters/{t2.id}/" in page.url
    assert RollCall.objects.get().status == "discrepancy"


def _menu_links(page):
    return sorted(set(page.locator("nav a[data-nav]").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")))


def test_every_role_menu_opens_and_admin_and_auditor_pages(browser_page, login_in_browser,
                                                           users, sites):
    page = browser_page
    seen = {}
    for role in Role:
        user = users[role]
        login_in_browser(page, user.username, language="ar")
        links = _menu_links(page)
        seen[role] = links
        for href in links:
            response = page.goto(page.base + href)
            assert response.status not in (403, 404), (role, href, response.status)
            assert page.locator("html").get_attribute("dir") == "rtl"
        page.context.clear_cookies()
    assert "/reception/import/" in seen[Role.RECEPTION_OFFICER]
    assert "/audit/" in seen[Role.AUDITOR] and "/sites/new/" in seen[Role.ADMINISTRATOR]
    assert not any(h.startswith("/accountability/")
                   for r in Role if r != Role.INVESTIGATOR for h in seen[r])

    # the administrator adds a camp and sets its restricted location, from the menu
    login_in_browser(page, users[Role.ADMINISTRATOR].username, language="ar")
    page.locator("nav .dropdown-toggle[href='/sites/']").click()
    page.locator("nav a.dropdown-item[href='/sites/new/']").click()
    page.fill("input[name=code]", "SAB")
    page.select_option("select[name=kind]", "camp")
    page.fill("input[name=name_ar]", "مخيم الصباح")
    page.fill("input[name=name_en]", "Al-Sabah camp")
    page.fill("input[name=latitude]", "32.5")
    page.fill("input[name=longitude]", "37.25")
    page.get_by_test_id("site-save").click()
    page.get_by_test_id("site-edit-SAB").wait_for()
    assert float(Site.objects.get(code="SAB").latitude) == 32.5
    page.context.clear_cookies()

    # the auditor reads who added it, filtered by user; the page is read-only
    login_in_browser(page, users[Role.AUDITOR].username, language="ar")
    page.locator("nav a[href='/audit/']").click()
    page.fill("input[name=actor]", users[Role.ADMINISTRATOR].username)
    page.get_by_test_id("audit-apply").click()
    rows = page.get_by_test_id("audit-rows").inner_text()
    from django.utils import translation

    with translation.override("ar"):
        site_model = str(Site._meta.verbose_name)
    assert site_model in rows  # the record by its model's name, not "core.site"
    sab = str(Site.objects.get(code="SAB").pk)  # its id only in the link to its own trail
    assert page.locator(f"[data-testid=audit-rows] a[href='?record={sab}']").count() >= 1
    assert page.locator("[data-testid=audit-rows] form, [data-testid=audit-rows] button"
                        ).count() == 0


def test_import_chooses_its_arrival_group_on_the_page(browser_page, login_in_browser, users,
                                                      sites, tmp_path):
    from django.utils import timezone

    from mawa.reception import services

    officer = users[Role.RECEPTION_OFFICER]
    group = services.arrival_group_create(actor=officer, site=sites["RHM"],
                                          client_key=uuid.uuid4(), arrived_at=timezone.now(),
                                          reported_count=2, formation="17th Division")
    csv = tmp_path / "people.csv"
    csv.write_text("given_ar,given_lat,family_ar,sex,birth\n"
                   "محمد,Mohammed,الحلبي,male,1990-03-15\n", encoding="utf-8")
    page = browser_page
    login_in_browser(page, officer.username, language="ar")
    page.goto(page.base + "/reception/import/")
    page.select_option("[data-testid=import-group]", str(group.id))
    page.set_input_files("[data-testid=import-file]", str(csv))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/reception/import/*/")
    assert "Mohammed" in page.content()
    from mawa.reception.views_import import _meta

    token = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert _meta(token, officer)["group"] == str(group.id)
