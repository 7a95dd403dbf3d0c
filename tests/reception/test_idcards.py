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
    """The QR code is a PNG whose modules are those of the short code's QR (error correction
    M), each a square of ``QR_SCALE`` pixels inside a quiet zone of two modules."""
    import base64
    import io

    import segno
    from PIL import Image

    from mawa.reception.idcards import QR_SCALE, qr_data_uri

    head, data = qr_data_uri("RHM-00042-K").split(",", 1)
    assert head == "data:image/png;base64"
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("1")
    matrix = segno.make("RHM-00042-K", error="m", micro=False).matrix
    assert image.size == ((len(matrix) + 4) * QR_SCALE,) * 2
    dark = [[image.getpixel(((x + 2) * QR_SCALE + QR_SCALE // 2,
                             (y + 2) * QR_SCALE + QR_SCALE // 2)) == 0
             for x in range(len(matrix))] for y in range(len(matrix))]
    assert dark == [[bool(v) for v in row] for row in matrix]


def test_a_large_photo_is_scaled_down_for_the_card_and_a_small_one_kept():
    import base64
    import io

    from PIL import Image

    from mawa.reception.idcards import PHOTO_PIXELS, photo_data_uri

    def jpeg(size):
        out = io.BytesIO()
        Image.new("RGB", size, (180, 160, 140)).save(out, "JPEG")
        return out.getvalue()

    head, data = photo_data_uri(jpeg((1200, 1600))).split(",", 1)
    assert head == "data:image/jpeg;base64"
    small = Image.open(io.BytesIO(base64.b64decode(data)))
    assert small.width <= PHOTO_PIXELS[0] and small.height <= PHOTO_PIXELS[1]
    assert small.size == (195, 260)  # proportions kept
    kept = jpeg((150, 200))
    assert photo_data_uri(kept) == "data:image/jpeg;base64," + base64.b64encode(kept).decode()
    # not an image Pillow reads: embedded as it is, the card still prints
    assert photo_data_uri(b"\x89PNG broken").startswith("data:image/png;base64,")
