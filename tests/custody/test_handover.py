"""Return to the country of origin: a batch with a condition report, on the ledger, refused as
a whole (the held items named) when anything is under legal hold."""

import json
import uuid

import pytest
from django.utils import translation

from mawa.core.errors import Conflict
from mawa.core.models import LedgerEntry
from mawa.custody import selectors, services
from mawa.custody.models import HandoverBatch, Item, Kind, State
from mawa.custody.verify import custody_verify

pytestmark = pytest.mark.django_db


def _return(officer, items, **kw):
    return services.handover_return(actor=officer, items=items, client_key=kw.pop(
        "client_key", uuid.uuid4()), recipient="Military attaché", document="Agreement 12/2027",
        **kw)


def test_a_batch_returns_every_item_with_its_condition_report_in_one_ledger_entry(
        officer, surrender):
    rifle, lot = surrender(), surrender(kind=Kind.AMMUNITION)
    batch = _return(officer, [rifle, lot], conditions={rifle.short_code: "unserviceable"},
                    notes={rifle.short_code: "Bolt missing"})
    for item in (rifle, lot):
        item.refresh_from_db()
        assert item.state == State.RETURNED and item.custodian_name == "Military attaché"
    report = {ln.item.short_code: ln for ln in selectors.handover_get(
        user=officer, code=batch.short_code).report}
    assert (report[rifle.short_code].condition_at_surrender,
            report[rifle.short_code].condition_at_return) == ("serviceable", "unserviceable")
    assert report[lot.short_code].quantity == 1000
    entry = LedgerEntry.objects.get(stream=f"custody/{batch.site.code}", seq=batch.ledger_seq)
    payload = json.loads(entry.payload)
    assert entry.kind == "returned" and payload["data"]["batch"] == batch.short_code
    assert {ln["id"] for ln in payload["items"]} == {str(rifle.pk), str(lot.pk)}
    assert custody_verify().ok


def test_a_held_item_refuses_the_whole_batch_and_is_named(officer, investigator, surrender):
    free, held = surrender(), surrender()
    services.legal_hold_set(actor=investigator, item=held, reason="Allegation A-17")
    with pytest.raises(Conflict) as exc:
        _return(officer, [free, held])
    assert exc.value.code == "legal_hold"
    with translation.override("en"):
        message = str(exc.value.message)
    assert held.short_code in message and free.short_code not in message
    assert "A-17" not in message  # the reason stays in the compartment
    free.refresh_from_db()
    assert free.state == State.IN_CUSTODY and not HandoverBatch.objects.exists()


def test_a_retried_batch_returns_the_first_and_returned_items_cannot_go_twice(officer,
                                                                              surrender):
    rifle = surrender()
    key = uuid.uuid4()
    first = _return(officer, [rifle], client_key=key)
    assert _return(officer, [rifle], client_key=key).pk == first.pk
    with pytest.raises(Conflict) as exc:
        _return(officer, [Item.objects.get(pk=rifle.pk)])
    assert exc.value.code == "handover_refused"


def test_the_handover_document_is_a_pdf_and_the_api_makes_a_batch(officer, surrender,
                                                                  client_for):
    rifle = surrender()
    c = client_for(officer)
    r = c.post("/api/custody/handovers", json.dumps({
        "client_key": str(uuid.uuid4()), "items": [rifle.short_code.lower()],
        "recipient": "Attaché", "document": "A-1",
        "conditions": {rifle.short_code: "serviceable"}}), content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["lines"][0]["item"] == rifle.short_code
    pdf = c.get(body["document_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
