"""Issue 21, point 5: surrender by name, code or service number; the catalogue by kind; the
receipt carries the markings and one plain line saying how to check it."""

import re
import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.custody.models import Kind, MaterielModel, Receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(sites, users):
    """Two persons registered through reception (so their names are searchable)."""
    from mawa.reception import services
    from mawa.reception.services import PersonInput

    def reg(**values):
        return services.person_register(
            actor=users[Role.RECEPTION_OFFICER], site=sites["RHM"], client_key=uuid.uuid4(),
            data=PersonInput(values={"sex": "male", **values}))[0]

    return {"samer": reg(given_ar="سامر", family_ar="الخطيب", given_lat="Samer",
                         service_number="SN-7788"),
            "samer2": reg(given_ar="سامر", family_ar="العمر", given_lat="Samer"),
            "omar": reg(given_ar="عمر", family_ar="الخطيب")}


def _open(c, sites, **data):
    return c.post("/custody/surrender/", {"client_key": str(uuid.uuid4()),
                                          "site": str(sites["RHM"].pk), **data})


def test_look_up_by_name_lists_the_persons_to_choose(client_for, officer, registered):
    c = client_for(officer)
    html = c.post("/custody/surrender/person/", {"person": "سامر"}).content.decode()
    assert registered["samer"].short_code in html and registered["samer2"].short_code in html
    assert registered["omar"].short_code not in html
    latin = c.post("/custody/surrender/person/", {"person": "samer khatib"}).content.decode()
    assert registered["samer"].short_code in latin


def test_a_name_that_finds_one_person_opens_the_surrender(client_for, officer, registered,
                                                          sites):
    response = _open(client_for(officer), sites, person="عمر الخطيب")
    assert response.status_code == 302
    assert Receipt.objects.get().person == registered["omar"]


def test_service_number_and_code_find_the_person(client_for, officer, registered, sites):
    c = client_for(officer)
    assert _open(c, sites, person="sn-7788").status_code == 302
    assert _open(c, sites, person=registered["omar"].short_code).status_code == 302
    assert {r.person_id for r in Receipt.objects.all()} == {registered["samer"].pk,
                                                          registered["omar"].pk}


def test_several_matches_ask_to_choose_and_the_choice_opens_it(client_for, officer,
                                                               registered, sites):
    c = client_for(officer)
    page = _open(c, sites, person="سامر")
    assert page.status_code == 200 and not Receipt.objects.exists()
    html = page.content.decode()
    assert 'name="person_id"' in html and registered["samer2"].short_code in html
    chosen = _open(c, sites, person="سامر", person_id=str(registered["samer2"].pk))
    assert chosen.status_code == 302
    assert Receipt.objects.get().person == registered["samer2"]


def test_nobody_found_says_so(client_for, officer, registered, sites):
    page = _open(client_for(officer), sites, person="زيد")
    assert page.status_code == 200 and "field-error" in page.content.decode()


def test_an_outsider_finds_nobody(client_for, users, registered):
    c = client_for(users[Role.CUSTODY_OFFICER])
    c.force_login(users["outsider"])
    assert c.post("/custody/surrender/person/", {"person": "سامر"}).status_code in (403, 404)


def test_catalogue_options_carry_their_kind(client_for, officer, receipt):
    html = client_for(officer).get(f"/custody/receipts/{receipt.short_code}/").content.decode()
    akm = MaterielModel.objects.get(name="AKM")
    assert re.search(rf'<option value="{akm.pk}" data-kind="weapon"', html)
    assert "data-item-form" in html and "custody/surrender.js" in html


def test_markings_on_the_receipt_page_and_a_plain_check_line_on_the_pdf(
        client_for, officer, receipt, surrender):
    from mawa.custody import services
    from mawa.custody.exports import receipt_print

    surrender(markings="١٩٨٤ ЖК 7731", marking_location="receiver, left side")
    html = client_for(officer).get(f"/custody/receipts/{receipt.short_code}/").content.decode()
    assert "ЖК 7731" in html and "receiver, left side" in html
    services.receipt_issue(actor=officer, receipt=receipt)
    receipt.refresh_from_db()
    from django.template.loader import render_to_string

    items = list(receipt.items.all())
    from django.utils import translation

    for language, check_line in (("en", "To check this receipt"),
                                 ("ar", "للتحقق من هذا الإيصال")):
        with translation.override(language):  # a receipt prints in its officer's language
            text = render_to_string("custody/receipt_pdf.html",
                                    {"receipt": receipt, "items": items, "qr": ""})
        assert "ЖК 7731" in text
        assert "verify-receipt" not in text and "public key" not in text.lower()
        assert check_line in text
    assert receipt_print(user=officer, receipt=receipt).startswith(b"%PDF")


def test_refusal_reason_only_when_refused_is_wired(client_for, officer, receipt):
    html = client_for(officer).get(f"/custody/receipts/{receipt.short_code}/").content.decode()
    assert 'data-field="refusal_reason"' in html
    assert Kind.WEAPON in html
