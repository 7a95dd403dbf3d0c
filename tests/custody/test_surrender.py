"""Surrender at the gate, receipts and their offline verification."""

import uuid

import pytest
from django.core.management import call_command

from mawa.core.errors import Conflict, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.custody import receipts, services
from mawa.custody.models import Item, Kind, Receipt, State
from mawa.custody.services import ItemInput

pytestmark = pytest.mark.django_db


def test_a_weapon_is_surrendered_cleared_verified_and_tagged(surrender, officer, sites):
    item = surrender(serial_number="AK 123-456")
    assert item.state == State.IN_CUSTODY
    assert item.custodian == officer and item.location_site == sites["RHM"]
    assert item.iti_category == "SA-assault" and item.unroca_category == "SA4"
    assert item.serial_key == "AK123456"
    kinds = list(item.events.order_by("item_seq").values_list("kind", flat=True))
    assert kinds == ["surrendered", "safety_cleared", "verified", "tagged"]
    assert LedgerEntry.objects.filter(stream="custody/RHM", kind="surrendered").count() == 1


def test_a_retried_surrender_returns_the_first_item(officer, receipt, akm):
    key = uuid.uuid4()
    data = ItemInput(catalogue=akm, serial_number="X1", cleared_by="a", verified_by="b")
    first = services.item_surrender(actor=officer, receipt=receipt, client_key=key, data=data)
    again = services.item_surrender(actor=officer, receipt=receipt, client_key=key, data=data)
    assert first.created and not again.created and first.item.pk == again.item.pk
    assert Item.objects.count() == 1


def test_a_duplicate_serial_is_flagged_not_refused(surrender):
    surrender(serial_number="123456")
    second = surrender(serial_number="12-34-56")
    assert second.serial_duplicate and second.state == State.IN_CUSTODY


def test_a_weapon_without_serial_needs_an_erased_marking(surrender):
    with pytest.raises(ValidationFailed) as exc:
        surrender(serial_number="")
    assert "serial_number" in exc.value.fields
    assert Item.objects.count() == 0
    item = surrender(serial_number="", marking_integrity="erased")
    assert item.marking_integrity == "erased"


def test_a_weapon_is_taken_in_only_cleared_and_verified(surrender):
    with pytest.raises(ValidationFailed) as exc:
        surrender(cleared_by="")
    assert "cleared_by" in exc.value.fields


def test_a_refused_item_needs_a_reason_and_is_on_the_receipt(surrender, officer, receipt):
    with pytest.raises(ValidationFailed):
        surrender(accepted=False)
    refused = surrender(accepted=False, refusal_reason="Hunting rifle, not military",
                        cleared_by="", verified_by="")
    assert refused.state == State.REFUSED and refused.custodian is None
    surrender()
    receipt = services.receipt_issue(actor=officer, receipt=receipt)
    body = receipts.payload_verify(receipt.signed_payload)
    assert {line[0]: line[6] for line in body["i"]}[refused.short_code] == 0
    assert len(body["i"]) == 2


def test_lots_and_vehicles(surrender):
    lot = surrender(kind=Kind.AMMUNITION, quantity=1440)
    assert lot.quantity == 1440 and lot.unit == "rounds"
    with pytest.raises(ValidationFailed):
        surrender(kind=Kind.AMMUNITION, quantity=0)
    tank = surrender(kind=Kind.VEHICLE)
    assert tank.unroca_category == "II"
    with pytest.raises(ValidationFailed):
        surrender(kind=Kind.VEHICLE, chassis_number="")


def test_items_against_an_arrival_group(officer, sites, group, surrender):
    receipt = services.receipt_open(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                    group=group)
    item = surrender(rcpt=receipt)
    issued = services.receipt_issue(actor=officer, receipt=receipt)
    assert receipts.payload_verify(issued.signed_payload)["b"] == group.short_code
    assert item.receipt == receipt


def test_an_issued_receipt_takes_no_more_items(surrender, officer, receipt):
    surrender()
    services.receipt_issue(actor=officer, receipt=receipt)
    with pytest.raises(Conflict):
        surrender()


def test_an_empty_receipt_is_not_issued(officer, receipt):
    with pytest.raises(Conflict):
        services.receipt_issue(actor=officer, receipt=receipt)
    assert Receipt.objects.get(pk=receipt.pk).status == "open"


def test_an_edited_receipt_code_does_not_verify(surrender, officer, receipt):
    surrender(serial_number="REAL-1")
    text = services.receipt_issue(actor=officer, receipt=receipt).signed_payload
    prefix, body, sig = text.split(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["i"][0][3] = "FAKE-1"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    for bad in (f"{prefix}.{forged}.{sig}", text[:-3] + "AAA", "MAWA1.garbage", "hello"):
        with pytest.raises(ValidationFailed) as exc:
            receipts.payload_verify(bad)
        assert exc.value.code in ("receipt_invalid", "receipt_unknown_key")


def test_a_long_receipt_carries_a_digest_of_its_lines(surrender, officer, receipt):
    for n in range(60):
        surrender(serial_number=f"SERIAL-NUMBER-{n:04d}")
    text = services.receipt_issue(actor=officer, receipt=receipt).signed_payload
    body = receipts.payload_verify(text)
    assert len(text) <= receipts.MAX_TEXT and body["c"] == 60
    assert body["h"] == receipts.lines_digest(services.receipt_lines(receipt))


def test_verify_receipt_command_offline(surrender, officer, receipt, capsys):
    from mawa.core import keys

    surrender()
    text = services.receipt_issue(actor=officer, receipt=receipt).signed_payload
    public = keys.public_key_bytes(keys.signing_key("RHM").public_key()).hex()
    call_command("verify-receipt", text, public_key=public)
    assert f"receipt {receipt.short_code} verified" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("verify-receipt", text[:-4] + "AAAA")


def test_the_receipt_pdf_renders(client_for, surrender, officer, receipt):
    surrender()
    services.receipt_issue(actor=officer, receipt=receipt)
    response = client_for(officer).get(f"/custody/receipts/{receipt.short_code}/receipt.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    labels = client_for(officer).get(f"/custody/receipts/{receipt.short_code}/labels.pdf")
    assert labels.status_code == 200 and labels.content.startswith(b"%PDF")


def test_the_public_verify_page_needs_no_login(client, surrender, officer, receipt):
    surrender()
    text = services.receipt_issue(actor=officer, receipt=receipt).signed_payload
    ok = client.post("/custody/verify/", {"code": text})
    assert ok.status_code == 200 and receipt.short_code in ok.content.decode()
    bad = client.post("/custody/verify/", {"code": text.replace(".", ".x", 1)})
    assert bad.status_code == 400
    api = client.post("/api/custody/verify-receipt", {"code": text},
                      content_type="application/json")
    assert api.status_code == 200 and api.json()["valid"]


def test_a_photo_that_is_not_an_image_is_refused(surrender, officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    item = surrender()
    before = item.events.count()
    with pytest.raises(ValidationFailed) as exc:
        services.item_photo_add(actor=officer, item=item, subject="marking",
                                upload=SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image"))
    assert "photo" in exc.value.fields and item.events.count() == before
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    photo = services.item_photo_add(actor=officer, item=item, subject="marking",
                                    upload=SimpleUploadedFile("m.png", buf.getvalue()))
    assert photo.sha256 and item.events.count() == before + 1


def test_issuing_the_receipt_disarms_the_person(surrender, officer, receipt, person):
    """Issue 15: the surrender receipt is the person's disarmament, on the lifecycle."""
    from mawa.reception.models import LifecycleEvent, Status

    surrender()
    services.receipt_issue(actor=officer, receipt=receipt)
    person.refresh_from_db()
    assert person.status == Status.DISARMED
    assert LifecycleEvent.objects.filter(person=person, to_status=Status.DISARMED).count() == 1


def test_a_receipt_of_refused_items_only_disarms_nobody(surrender, officer, receipt, person):
    from mawa.reception.models import Status

    surrender(accepted=False, refusal_reason="Hunting rifle", cleared_by="", verified_by="")
    services.receipt_issue(actor=officer, receipt=receipt)
    person.refresh_from_db()
    assert person.status == Status.ARRIVED
