"""In a real headless Chromium: a custody officer records a surrender, issues and verifies the
receipt, and runs a stock check whose sample re-derives. Screenshots go to MAWA_SHOTS if set."""

import os
import uuid

import pytest

from mawa.accounts.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name):
    folder = os.environ.get("MAWA_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.fixture(autouse=True)
def catalogue(db):
    from mawa.custody.demo import catalogue_ensure

    catalogue_ensure()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_surrender_receipt_and_verify(browser_page, login_in_browser, users, sites, person,
                                      catalogue, officer, language):
    page = browser_page
    page.set_default_timeout(60000)  # a shared, loaded machine; nothing here is timed
    login_in_browser(page, officer.username, language=language)
    page.goto(page.base + "/custody/surrender/")
    page.fill("input[name=person]", person.short_code.lower())
    page.select_option("select[name=site]", str(sites["RHM"].pk))  # working site is DEP
    page.fill("input[name=witness]", "Sgt. Aziz")
    page.click("[data-testid=open-surrender]")
    page.wait_for_selector("[data-testid=item-form]")
    # a rifle from the catalogue
    from mawa.custody.models import MaterielModel

    # by its id: the label is the model's name in the page's language (Arabic names, issue 21)
    akm = MaterielModel.objects.get(name="AKM")
    page.select_option("select[name=catalogue]", str(akm.pk))
    page.fill("input[name=serial_number]", "١٢٣٤٥٦")  # Arabic-Indic digits are accepted
    page.fill("input[name=cleared_by]", "Cpl. Salem")
    page.fill("input[name=verified_by]", "Lt. Nabil")
    shot(page, f"surrender-form-{language}")
    page.click("[data-testid=add-item]")
    page.wait_for_selector("[data-testid=receipt-items] a.code")
    # a lot of ammunition; the serial field hides for lots
    page.select_option("select[name=kind]", "ammunition")
    assert page.locator("input[name=serial_number]").is_hidden()
    page.fill("input[name=calibre]", "7.62×39 mm")
    page.fill("input[name=quantity]", "440")
    page.click("[data-testid=add-item]")
    # an item refused without a reason: a clear message, nothing written
    page.select_option("select[name=kind]", "weapon")
    page.select_option("select[name=accepted]", "0")
    page.fill("input[name=serial_number]", "HUNT-1")
    page.click("[data-testid=add-item]")
    assert page.locator(".field-error").count() >= 1
    assert page.locator("[data-testid=receipt-items] tbody tr").count() == 2
    page.fill("input[name=refusal_reason]", "Hunting shotgun")
    page.click("[data-testid=add-item]")
    page.wait_for_function("document.querySelectorAll('[data-testid=receipt-items] tbody tr')"
                           ".length == 3")
    page.click("[data-testid=issue]")
    from django.utils import translation

    with translation.override(language):  # the label as the merged catalogues translate it
        from mawa.custody.models import Receipt

        issued = str(Receipt.Status.ISSUED.label)
    assert page.locator("[data-testid=receipt-status]").inner_text() == issued
    shot(page, f"surrender-issued-{language}")
    pdf = page.request.get(page.base + page.locator("[data-testid=receipt-pdf]")
                           .get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    from mawa.custody.models import Receipt

    text = Receipt.objects.get().signed_payload
    page.goto(page.base + "/custody/verify/")
    page.fill("textarea[name=code]", text)
    page.click("[data-testid=verify]")
    assert page.locator("[data-testid=verify-result].alert-success").is_visible()
    assert "123456" in page.content()
    shot(page, f"verify-{language}")
    page.fill("textarea[name=code]", text[:-6] + "AAAAAA")
    page.click("[data-testid=verify]")
    assert page.locator("[data-testid=verify-result].alert-danger").is_visible()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_stock_check_with_a_sample_that_rederives(browser_page, login_in_browser, officer,
                                                  surrender, gate_store, catalogue, language):
    from mawa.custody import services

    items = [surrender() for _ in range(12)]
    for item in items:
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk)})
    page = browser_page
    page.set_default_timeout(60000)
    login_in_browser(page, officer.username, language=language)
    page.goto(page.base + f"/custody/stores/{gate_store.short_code}/")
    assert page.locator("[data-testid=overdue]").is_visible()
    shot(page, f"store-{language}")
    page.click("[data-testid=start-check]")
    page.wait_for_selector("[data-testid=rederive].alert-success")
    from mawa.custody.models import StockCheck

    check = StockCheck.objects.get()
    assert len(check.sample) == 2  # ⌈10 % of 12⌉
    by_tag = {i.short_code: i for i in items}
    first = check.sample[0]
    page.fill("#scan-form input[name=code]", first)
    page.fill("#scan-form input[name=serial]", by_tag[first].serial_number)
    page.click("[data-testid=scan]")
    page.wait_for_selector("[data-testid=sample] .text-bg-success")
    page.fill("#scan-form input[name=code]", "RHM-99999-A")
    page.click("[data-testid=scan]")
    page.wait_for_selector("#check-lines .alert-danger")
    page.fill("input[name='count_SA-assault']", "12")
    shot(page, f"check-open-{language}")
    page.click("[data-testid=close-check]")
    page.wait_for_selector("[data-testid=discrepancies] [data-testid=resolve]")
    page.select_option("[data-testid=discrepancies] select[name=resolution]", "found")
    page.fill("[data-testid=discrepancies] input[name=note]", "On the cleaning bench")
    page.click("[data-testid=resolve]")
    page.wait_for_selector("[data-testid=discrepancies] .text-bg-success")
    assert services.stock_check_rederive(StockCheck.objects.get())
    shot(page, f"check-closed-{language}")
    assert officer.role == Role.CUSTODY_OFFICER and uuid


@pytest.mark.parametrize("language", ["ar", "en"])
def test_hand_items_over_to_the_country_of_origin(browser_page, login_in_browser, officer,
                                                  surrender, gate_store, catalogue, language):
    """The handover pages in the browser: choose the store, tick items, review the condition
    report, complete once (the button is disabled after the click), print the document."""
    from mawa.custody import services
    from mawa.custody.models import HandoverBatch, State

    items = [surrender() for _ in range(3)]
    for item in items:
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk)})
    page = browser_page
    page.set_default_timeout(60000)
    login_in_browser(page, officer.username, language=language)
    page.goto(page.base + "/custody/handovers/")
    page.click("[data-testid=new-handover]")
    page.select_option("#id_store_choice", gate_store.short_code)  # sends the form by itself
    page.wait_for_selector("[data-testid=candidates]")
    for item in items[:2]:
        page.check(f"#item-{item.short_code}")
    page.fill("input[name=recipient]", "وزارة الدفاع")
    page.fill("textarea[name=delegation]", "العقيد عزيز حداد\nMaj. Rami Khoury")
    page.fill("input[name=document]", "Agreement 7/2027")
    shot(page, f"handover-new-{language}")
    page.click("[data-testid=review]")
    page.wait_for_selector("[data-testid=condition-report]")
    assert "وزارة الدفاع — العقيد عزيز حداد, Maj. Rami Khoury" in page.locator(
        "[data-testid=recipient]").inner_text()
    page.select_option(f"select[name=condition-{items[0].short_code}]", "unserviceable")
    page.fill(f"input[name=note-{items[0].short_code}]", "Bolt missing")
    shot(page, f"handover-review-{language}")
    page.click("[data-testid=complete]")
    page.wait_for_selector("[data-testid=handover-lines]")
    batch = HandoverBatch.objects.get()
    assert batch.lines.count() == 2 and batch.lines.get(item=items[0]).note == "Bolt missing"
    assert {i.state for i in type(items[0]).objects.filter(pk__in=[i.pk for i in items[:2]])} \
        == {State.RETURNED}
    shot(page, f"handover-batch-{language}")
    pdf = page.request.get(page.base + page.locator("[data-testid=handover-pdf]")
                           .get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
