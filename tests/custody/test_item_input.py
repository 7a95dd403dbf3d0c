"""One surrender, two interfaces: the page and the API turn their raw values into the
service's ``ItemInput`` through one function (``services.item_input``), and the API's body is
made from the fields ``ItemInput`` declares. Lengths are the columns' own, refused with a field
error on both databases rather than cut or failing on PostgreSQL."""

import uuid

import pytest

from mawa.core.errors import ValidationFailed
from mawa.custody import services
from mawa.custody.models import Item

pytestmark = pytest.mark.django_db

SAME = {"kind": "weapon", "serial_number": "AK-991", "make": "Izhmash", "calibre": "7.62",
        "marking_integrity": "intact", "condition": "unserviceable", "cleared_by": "Cpl. Salem",
        "verified_by": "Lt. Nabil", "markings": "★ 1974"}


def test_page_and_api_record_the_same_item_from_the_same_values(client_for, officer, receipt,
                                                                akm):
    client = client_for(officer)
    page = client.post(f"/custody/receipts/{receipt.short_code}/", {
        **SAME, "client_key": str(uuid.uuid4()), "catalogue": str(akm.pk), "accepted": "1"})
    assert page.status_code == 302
    api = client.post(f"/api/custody/receipts/{receipt.short_code}/items", {
        **SAME, "serial_number": "AK-992", "client_key": str(uuid.uuid4()), "catalogue": "AKM"},
        content_type="application/json")
    assert api.status_code == 201, api.content
    by_page, by_api = Item.objects.filter(receipt=receipt).order_by("serial_number")
    compared = ("kind", "catalogue_id", "make", "model", "calibre", "iti_category",
                "marking_integrity", "condition", "cleared_by", "verified_by", "markings",
                "quantity", "state", "year_of_manufacture")
    assert [getattr(by_page, f) for f in compared] == [getattr(by_api, f) for f in compared]
    assert by_page.quantity == 1 and by_page.year_of_manufacture is None


def test_the_api_takes_every_field_the_service_declares(client_for, officer, receipt):
    body = {"client_key": str(uuid.uuid4()), "kind": "ammunition", "quantity": 240,
            "calibre": "7.62×39 mm", "headstamps": "539 / 74", "packaging": "spam can",
            "unit": "rounds", "safety_assessment": "safe to store", "hazards": "none seen"}
    response = client_for(officer).post(f"/api/custody/receipts/{receipt.short_code}/items",
                                        body, content_type="application/json")
    assert response.status_code == 201, response.content
    lot = Item.objects.get(short_code=response.json()["item"]["tag"])
    assert (lot.headstamps, lot.packaging, lot.safety_assessment, lot.hazards) == (
        "539 / 74", "spam can", "safe to store", "none seen")
    schema = client_for(officer).get("/api/openapi.json").json()["components"]["schemas"]
    assert "mounted_on" not in schema["ItemIn"]["properties"]
    assert {"client_key", "kind"} <= set(schema["ItemIn"]["required"])


def test_an_unknown_catalogue_model_is_refused_not_ignored(client_for, officer, receipt):
    response = client_for(officer).post(
        f"/api/custody/receipts/{receipt.short_code}/items",
        {**SAME, "client_key": str(uuid.uuid4()), "catalogue": "AKMM"},
        content_type="application/json")
    assert response.status_code == 400 and "catalogue" in response.json()["fields"]
    assert not Item.objects.exists()


def test_a_value_longer_than_its_column_is_a_field_error_on_both_databases(client_for, officer,
                                                                          receipt):
    response = client_for(officer).post(
        f"/api/custody/receipts/{receipt.short_code}/items",
        {**SAME, "client_key": str(uuid.uuid4()), "make": "M" * 121, "plate": "P" * 41},
        content_type="application/json")
    assert response.status_code == 400
    assert {"make", "plate"} <= set(response.json()["fields"])
    assert not Item.objects.exists()


def test_item_input_keeps_defaults_for_empty_values(akm):
    data = services.item_input({"kind": "weapon", "catalogue": akm, "quantity": None,
                                "year_of_manufacture": None, "photo": object(),
                                "client_key": uuid.uuid4()})
    assert (data.quantity, data.year_of_manufacture, data.catalogue) == (1, None, akm)
    with pytest.raises(ValidationFailed) as exc:
        services.item_input({"catalogue": "no such model"})
    assert "catalogue" in exc.value.fields


def test_names_that_become_the_custodian_fit_its_column(officer, surrender, sites, depot):
    """An escort's or a recipient's name is the item's custodian name (160 characters):
    cut to it like other event texts on PostgreSQL as on SQLite; a batch's party and
    delegation together are refused beyond it."""
    rifle = surrender()
    services.item_event_record(actor=officer, item=rifle, kind="dispatched",
                               data={"to_site": depot.code, "escort": "E" * 300})
    rifle.refresh_from_db()
    assert rifle.custodian_name == "E" * 160
    with pytest.raises(ValidationFailed) as exc:
        services.handover_return(actor=officer, items=[surrender()], client_key=uuid.uuid4(),
                                 recipient="Ministry of Defence", document="A",
                                 delegation=["N" * 150])
    assert "recipient" in exc.value.fields
