"""Pages and API: they render in both languages, stay scoped, and do not multiply queries."""

import io
import time
import uuid

import pytest
import pyzipper

from mawa.accounts.roles import Role
from mawa.custody import services
from mawa.custody.models import Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(officer, surrender, gate_store):
    items = [surrender() for _ in range(12)] + [surrender(kind=Kind.AMMUNITION)]
    for item in items:
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk), "rack": "R2"})
    return items


@pytest.mark.parametrize("language", ["ar", "en"])
def test_pages_render(client_for, officer, many, gate_store, receipt, language):
    client = client_for(officer)
    client.cookies["django_language"] = language
    item = many[0]
    for url in ["/custody/", f"/custody/stores/{gate_store.short_code}/", "/custody/items/",
                f"/custody/items/{item.short_code}/", "/custody/surrender/",
                f"/custody/receipts/{receipt.short_code}/", "/custody/reconciliation/",
                "/custody/verify/", "/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == language


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_store_list_and_item_list_queries_do_not_grow(client_for, officer, many, gate_store,
                                                      surrender, django_assert_max_num_queries):
    client = client_for(officer)
    urls = [f"/custody/stores/{gate_store.short_code}/", "/custody/items/", "/custody/"]
    before = {url: _queries(client, url) for url in urls}
    for _ in range(10):
        item = surrender()
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk)})
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            client.get(url)
        assert before[url] <= 25, url


def test_item_page_queries_do_not_grow_with_history(client_for, officer, many,
                                                    django_assert_max_num_queries):
    item, client = many[0], client_for(officer)
    url = f"/custody/items/{item.short_code}/"
    before = _queries(client, url)
    for n in range(15):
        services.item_event_record(actor=officer, item=item, kind="sealed", data={"seal": str(n)})
    with django_assert_max_num_queries(before):
        assert client.get(url).status_code == 200


def test_outsider_gets_404(client_for, users, many):
    client = client_for(users["outsider"])
    assert client.get(f"/custody/items/{many[0].short_code}/").status_code == 404
    assert client.get("/api/custody/items").json() == [] or client.get(
        "/api/custody/items").status_code in (403, 404)


def test_roles_without_custody_see_no_menu_entry(client_for, users):
    page = client_for(users[Role.CAMP_STAFF]).get("/").content.decode()
    assert "/custody/" not in page
    assert client_for(users[Role.CAMP_STAFF]).get("/custody/").status_code == 403


def test_reconciliation_counts_and_exports(client_for, officer, many, surrender):
    services.item_event_record(actor=officer, item=many[1], kind="destroyed",
                               data={"method": "cut", "plan": "P", "monitor": "M"})
    from mawa.custody.selectors import reconciliation

    report = reconciliation(user=officer)
    line = next(r for r in report["lines"] if r["category"] == "SA-assault")
    assert (line["surrendered"], line["in_store"], line["disposed"]) == (12, 11, 1)
    assert report["rounds"]["surrendered"] == 1000
    client = client_for(officer)
    assert client.get("/custody/reconciliation/?format=csv").status_code == 302  # step-up
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    assert client.post("/custody/reconciliation/?format=csv",
                       {"purpose": "", "recipient": ""}).status_code == 400
    ready = client.post("/custody/reconciliation/?format=csv",
                        {"purpose": "monthly audit", "recipient": "HQ"}).context["ready"]
    data = b"".join(client.get(f"/exports/{ready.token}/").streaming_content)
    assert b"SA-assault" not in data  # encrypted
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(ready.passphrase.encode())
        assert b"SA-assault" in archive.read(archive.namelist()[0])


def test_surrender_through_the_page_with_a_bad_photo(client_for, officer, receipt, akm):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mawa.custody.models import Item

    data = {"client_key": str(uuid.uuid4()), "kind": "weapon", "catalogue": str(akm.pk),
            "accepted": "1", "serial_number": "٧٧٧", "marking_integrity": "intact",
            "condition": "serviceable", "cleared_by": "A", "verified_by": "B",
            "photo": SimpleUploadedFile("x.jpg", b"not an image")}
    response = client_for(officer).post(f"/custody/receipts/{receipt.short_code}/", data)
    assert response.status_code == 400 and Item.objects.count() == 0
    data["photo"] = SimpleUploadedFile("x.jpg", b"")
    data.pop("photo")
    response = client_for(officer).post(f"/custody/receipts/{receipt.short_code}/", data)
    assert response.status_code == 302
    assert Item.objects.get().serial_number == "777"


def test_api_surrender_and_events(client_for, officer, receipt, gate_store):
    client = client_for(officer)
    body = {"client_key": str(uuid.uuid4()), "kind": "weapon", "catalogue": "PKM",
            "serial_number": "PK-1", "cleared_by": "A", "verified_by": "B"}
    url = f"/api/custody/receipts/{receipt.short_code}/items"
    first = client.post(url, body, content_type="application/json")
    again = client.post(url, body, content_type="application/json")
    assert first.status_code == 201 and again.status_code == 200
    tag = first.json()["item"]["tag"]
    moved = client.post(f"/api/custody/items/{tag}/events",
                        {"kind": "stored", "data": {"store": str(gate_store.pk)}},
                        content_type="application/json")
    assert moved.status_code == 200 and moved.json()["store"] == gate_store.short_code
    bad = client.post(f"/api/custody/items/{tag}/events", {"kind": "destroyed", "data": {}},
                      content_type="application/json")
    assert bad.status_code == 400 and "method" in bad.json()["fields"]
    detail = client.get(f"/api/custody/items/{tag}").json()
    assert [e["kind"] for e in detail["events"]][-1] == "stored"
    issued = client.post(f"/api/custody/receipts/{receipt.short_code}/issue")
    assert issued.json()["signed_payload"].startswith("MAWA1.")
