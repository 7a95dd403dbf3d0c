"""A reception officer, in Arabic, takes a new arrival group from the gate to internment."""

import pytest

from mawa.accounts.roles import Role
from mawa.reception.models import Person, Status


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_arabic_officer_takes_a_group_from_the_gate_to_the_camp(browser_page, login_in_browser,
                                                                users):
    page = browser_page
    login_in_browser(page, users[Role.RECEPTION_OFFICER].username, language="ar")
    page.goto(page.base + "/reception/groups/new/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.fill("input[name=reported_count]", "٣")
    page.fill("input[name=formation]", "اللواء الخامس")
    page.fill("input[name=facilitated_by]", "محافظ الأنبار")
    page.click("[data-testid=group-save]")
    page.wait_for_selector("[data-testid=group-code]")
    assert "سُجّلت مجموعة الوصول" in page.content()

    page.click("[data-testid=group-register]")
    page.wait_for_selector("[data-testid=person-form]")
    page.fill("#id_given_ar", "محمد")
    page.fill("#id_given_lat", "Mohammed")
    page.fill("#id_father_ar", "أحمد")
    page.fill("#id_family_ar", "الحلبي")
    page.fill("#id_birth", "١٩٩٠-٠٣-١٥")
    page.fill("#id_service_number", "٤٤٥٥٦")
    page.click("[data-testid=person-save]")
    page.wait_for_selector("[data-testid=person-code]")
    person = Person.objects.get()
    assert (person.birth_year, person.birth_month, person.birth_day) == (1990, 3, 15)
    assert person.service_number == "44556"

    from django.utils import translation

    for target in ("disarmed", "registered", "interned"):
        page.click(f"[data-testid=transition-{target}] button[type=submit]")
        page.wait_for_selector(f"[data-testid=person-status][data-status={target}]")
        with translation.override("ar"):
            label = str(Status(target).label)  # the page shows the status in Arabic
        assert label in page.inner_text("[data-testid=person-status]")
    person.refresh_from_db()
    assert person.status == Status.INTERNED
    assert person.current_site.code == "NUR"
    history = page.inner_text("[data-testid=history]")
    assert history.count("→") == 3

    page.goto(page.base + f"/reception/groups/{person.group_id}/")
    assert page.inner_text("[data-testid=count-camp]") == "1"
    assert page.inner_text("[data-testid=count-missing]") == "2"

    # ID cards for the group: the group page leads to the print form, which starts a job
    # (the whole job is walked through in test_browser_idcards.py)
    page.click("[data-testid=group-idcards]")
    page.wait_for_selector("[data-testid=idcards-form]")
