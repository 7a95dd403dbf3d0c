"""ID cards: permission, audit, a real PDF with the short code in its QR code."""

import pytest

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry


def test_a_card_is_a_pdf_and_its_print_is_audited(register, users, client_for):
    person = register()[0]
    client = client_for(users[Role.RECEPTION_OFFICER])
    before = LedgerEntry.objects.filter(kind="audit.idcard.print").count()
    response = client.get(f"/reception/persons/{person.id}/idcard.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert LedgerEntry.objects.filter(kind="audit.idcard.print").count() == before + 1


def test_the_group_page_offers_the_cards_and_starting_them_goes_to_the_job(
        register, group, users, client_for):
    register()
    client = client_for(users[Role.RECEPTION_OFFICER])
    page = client.get(f"/reception/groups/{group.id}/idcards/?format=wristband")
    assert page.status_code == 200 and b'value="wristband" checked' in page.content
    response = client.post(f"/reception/groups/{group.id}/idcards/",
                           {"format": "wristband", "selection": "all"})
    assert response.status_code == 302 and response["Location"].startswith("/jobs/")
    # a selection without anybody ticked is refused on the form
    response = client.post(f"/reception/groups/{group.id}/idcards/",
                           {"format": "card", "selection": "selected"})
    assert response.status_code == 400 and b"idcards-error" in response.content


@pytest.mark.parametrize("who", [Role.CUSTODY_OFFICER, "outsider"])
def test_others_cannot_print(register, users, client_for, who):
    person = register()[0]
    response = client_for(users[who]).get(f"/reception/persons/{person.id}/idcard.pdf")
    assert response.status_code in (403, 404)


def test_the_qr_code_carries_the_short_code():
    import base64

    from mawa.reception.idcards import qr_data_uri

    svg = base64.b64decode(qr_data_uri("RHM-00042-K").split(",", 1)[1]).decode()
    assert svg.startswith("<svg")
