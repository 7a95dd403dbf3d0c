"""Pages: the form keeps what was typed, errors sit by their field, scoping answers 404."""

import re
import uuid

import pytest
from django.urls import reverse

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry
from mawa.reception.models import ArrivalGroup, Person, Status


def _form_key(html: str) -> str:
    return re.search(r'name="client_key" value="([0-9a-f-]+)"', html).group(1)


@pytest.fixture
def officer_client(client_for, officer):
    return client_for(officer)


def test_group_create_page_logs_a_group(officer_client, sites):
    page = officer_client.get(reverse("reception:group_create"))
    assert page.status_code == 200
    key = _form_key(page.content.decode())
    data = {"client_key": key, "arrived_at": "٢٠٢٤-٠٥-٠١T٠٨:٣٠", "reported_count": "١٢",
            "facilitated_by": "Governor", "formation": "5th Brigade"}
    response = officer_client.post(reverse("reception:group_create"), data)
    assert response.status_code == 302
    again = officer_client.post(reverse("reception:group_create"), data)
    assert again.status_code == 302 and again.url == response.url
    group = ArrivalGroup.objects.get()
    assert group.reported_count == 12 and group.site == sites["RHM"]


def test_registration_page_registers_once_on_a_double_submit(officer_client, group):
    url = reverse("reception:person_register") + f"?group={group.id}"
    page = officer_client.get(url)
    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode()
    data = {"client_key": _form_key(page.content.decode()), "group": str(group.id),
            "given_ar": "خالد", "given_lat": "Khaled", "family_ar": "العلي", "sex": "male",
            "category": "combatant", "birth": "١٩٨٨-٠٤"}
    first = officer_client.post(url, data)
    second = officer_client.post(url, data)
    assert first.status_code == second.status_code == 302
    person = Person.objects.get()
    assert (person.birth_year, person.birth_month) == (1988, 4)
    assert first.url == second.url == reverse("reception:person_detail", args=[person.id])


def test_errors_are_next_to_their_field_and_everything_typed_is_kept(officer_client, group):
    url = reverse("reception:person_register") + f"?group={group.id}"
    data = {"client_key": str(uuid.uuid4()), "group": str(group.id), "given_ar": "Ali",
            "given_lat": "Ali", "family_ar": "الحسن", "sex": "male", "category": "combatant",
            "birth": "1990-02-30", "unit": "Third <b>Regiment</b>"}
    response = officer_client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-for="given_ar"' in html and 'data-error-for="birth"' in html
    assert 'value="1990-02-30"' in html and 'value="الحسن"' in html
    assert "Third &lt;b&gt;Regiment&lt;/b&gt;" in html
    assert Person.objects.count() == 0


def test_errors_are_in_arabic_for_an_arabic_user(officer_client, group):
    officer_client.cookies["django_language"] = "ar"
    url = reverse("reception:person_register") + f"?group={group.id}"
    response = officer_client.post(url, {"client_key": str(uuid.uuid4()), "group": str(group.id),
                                         "given_ar": "Ali", "sex": "male",
                                         "category": "combatant"})
    assert "اكتب هذا الاسم بالحروف العربية" in response.content.decode()


def test_markup_is_escaped_on_the_person_page(officer_client, register):
    person, _ = register(unit="<script>alert(1)</script>", notes="<img src=x onerror=alert(2)>")
    html = officer_client.get(reverse("reception:person_detail", args=[person.id])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html


def test_reading_a_person_page_is_audited_once(officer_client, register):
    person, _ = register()
    before = LedgerEntry.objects.filter(stream="audit", kind="audit.read").count()
    assert officer_client.get(reverse("reception:person_detail", args=[person.id])).status_code \
        == 200
    reads = LedgerEntry.objects.filter(stream="audit", kind="audit.read")
    assert reads.count() == before + 1
    assert str(person.id) in reads.last().payload and "محمد" not in reads.last().payload


def test_an_outsider_gets_404_for_a_person_and_a_group(client_for, users, register, group):
    person, _ = register()
    client = client_for(users["outsider"])
    assert client.get(reverse("reception:person_detail", args=[person.id])).status_code == 404
    assert client.get(reverse("reception:group_detail", args=[group.id])).status_code == 404
    assert client.get(reverse("reception:person_detail", args=[uuid.uuid4()])).status_code \
        == 404
    listing = client.get(reverse("reception:person_list")).content.decode()
    assert person.short_code not in listing


def test_sensitive_fields_only_with_the_permission(client_for, users, register):
    person, _ = register(family_contact_name="Umm Khaled", vulnerabilities=["wounded"])
    officer_html = client_for(users[Role.RECEPTION_OFFICER]).get(
        reverse("reception:person_detail", args=[person.id])).content.decode()
    assert "Umm Khaled" in officer_html
    staff_html = client_for(users[Role.CAMP_STAFF]).get(
        reverse("reception:person_detail", args=[person.id])).content.decode()
    assert "Umm Khaled" not in staff_html and 'data-testid="sensitive-hidden"' in staff_html


def test_transitions_from_the_page(officer_client, register, sites):
    person, _ = register()
    url = reverse("reception:person_transition", args=[person.id])
    assert officer_client.post(url, {"to": "disarmed", "expected_status": "arrived"}
                               ).status_code == 302
    assert officer_client.post(url, {"to": "registered", "expected_status": "disarmed"}
                               ).status_code == 302
    bad = officer_client.post(url, {"to": "interned", "expected_status": "registered",
                                    "camp": "ZZZ"})
    assert bad.status_code == 400
    assert officer_client.post(url, {"to": "interned", "expected_status": "registered",
                                     "camp": "NUR"}).status_code == 302
    person.refresh_from_db()
    assert person.status == Status.INTERNED
    html = officer_client.get(reverse("reception:person_detail", args=[person.id])).content
    assert html.decode().count('data-testid="history"') == 1


def test_separation_from_the_page(officer_client, register):
    person, _ = register()
    response = officer_client.post(reverse("reception:person_transition", args=[person.id]),
                                   {"separate": "1", "category": "child",
                                    "referral_to": "UNICEF"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.status, person.category, person.referral_to) == (
        "referred_out", "child", "UNICEF")


def test_match_panel_suggests_an_existing_person(officer_client, register):
    existing, _ = register()
    html = officer_client.post(reverse("reception:person_matches"), {
        "given_lat": "mohammed", "family_ar": "حلبي"}).content.decode()
    assert existing.short_code in html
    none = officer_client.post(reverse("reception:person_matches"), {
        "given_lat": "Omar", "family_ar": "حلبي"}).content.decode()
    assert existing.short_code not in none


def test_match_panel_never_shows_other_sites(client_for, users, register):
    existing, _ = register()
    html = client_for(users["outsider"]).post(reverse("reception:person_matches"), {
        "given_lat": "mohammed", "family_ar": "حلبي", "service_number": "A12345"}
    ).content.decode()
    assert existing.short_code not in html


def test_group_page_counts_who_is_missing(officer_client, register, group, officer):
    from mawa.reception import services

    p1, _ = register()
    register(given_ar="علي")
    services.person_transition(actor=officer, person=p1, to="disarmed")
    html = officer_client.get(reverse("reception:group_detail", args=[group.id])).content.decode()
    assert re.search(r'data-testid="count-missing">1<', html)
    assert re.search(r'data-testid="count-disarmed">1<', html)
    assert re.search(r'data-testid="count-recorded">2<', html)


def test_home_shows_the_reception_panel(officer_client, register):
    register()
    html = officer_client.get("/").content.decode()
    assert reverse("reception:group_list") in html
