"""The handover pages: a custody officer prepares a return to the country of origin from a
store, reviews the condition report and completes it; the batch page links the bilingual
document. Thin pages over ``handover_check`` / ``handover_return``: the rules are the service's
(tested in test_handover.py), here what the pages make of them."""

import json
import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry
from mawa.custody import services
from mawa.custody.models import HandoverBatch, Kind, State

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(officer, surrender, gate_store):
    """Two rifles and a lot in the gate armoury."""
    items = [surrender(), surrender(), surrender(kind=Kind.AMMUNITION)]
    for item in items:
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk)})
    return items


def _prepared(store, items, **over) -> dict:
    data = {"client_key": str(uuid.uuid4()), "store": store.short_code,
            "items": [i.short_code for i in items], "recipient": "Ministry of Defence",
            "delegation": "Col. Aziz Haddad\r\nMaj. Rami Khoury\r\n", "document": "Agreement 7",
            "witness": "ICRC delegate"}
    data.update(over)
    return data


@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_handover_page_renders_in_both_languages(client_for, officer, stored,
                                                       gate_store, language):
    client = client_for(officer)
    client.cookies["django_language"] = language
    data = _prepared(gate_store, stored[:1])
    pages = [client.get("/custody/handovers/"), client.get("/custody/handovers/new/"),
             client.get("/custody/handovers/new/", {"store": gate_store.short_code}),
             client.post("/custody/handovers/new/", {**data, "step": "review"})]
    done = client.post("/custody/handovers/new/", {**data, "step": "complete"})
    pages.append(client.get(done["Location"]))
    for page in pages:
        assert page.status_code == 200, page.request["PATH_INFO"]
        assert page["Content-Language"] == language
        html = page.content.decode()
        assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    assert stored[0].short_code in pages[2].content.decode()  # the store's items are offered


def test_prepare_review_and_complete_a_handover(client_for, officer, stored, gate_store):
    client = client_for(officer)
    rifle, other, lot = stored
    data = _prepared(gate_store, [rifle, lot])
    review = client.post("/custody/handovers/new/", {**data, "step": "review"})
    assert review.status_code == 200
    html = review.content.decode()
    assert f'name="condition-{rifle.short_code}"' in html and other.short_code not in html
    assert "Ministry of Defence — Col. Aziz Haddad, Maj. Rami Khoury" in html
    assert not HandoverBatch.objects.exists()  # reviewing hands nothing over

    done = client.post("/custody/handovers/new/", {
        **data, "step": "complete", f"condition-{rifle.short_code}": "unserviceable",
        f"note-{rifle.short_code}": "Bolt missing"})
    batch = HandoverBatch.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/custody/handovers/{batch.short_code}/"
    assert batch.recipient == "Ministry of Defence — Col. Aziz Haddad, Maj. Rami Khoury"
    assert (batch.document, batch.witness) == ("Agreement 7", "ICRC delegate")
    lines = {ln.item_id: ln for ln in batch.lines.all()}
    assert (lines[rifle.pk].condition_at_return, lines[rifle.pk].note) == ("unserviceable",
                                                                         "Bolt missing")
    assert lines[lot.pk].condition_at_return == lot.condition
    for item, state in ((rifle, State.RETURNED), (lot, State.RETURNED), (other, State.IN_CUSTODY)):
        item.refresh_from_db()
        assert item.state == state
    entry = LedgerEntry.objects.get(stream=f"custody/{batch.site.code}", seq=batch.ledger_seq)
    assert entry.kind == "returned"
    assert json.loads(entry.payload)["data"]["batch"] == batch.short_code

    page = client.get(done["Location"]).content.decode()
    assert f"/custody/handovers/{batch.short_code}/handover.pdf" in page
    assert rifle.short_code in page and "Bolt missing" in page
    listed = client.get("/custody/handovers/").content.decode()
    assert f"/custody/handovers/{batch.short_code}/" in listed


def test_a_double_submitted_completion_makes_one_batch(client_for, officer, stored, gate_store):
    client = client_for(officer)
    data = {**_prepared(gate_store, stored[:2]), "step": "complete"}
    first = client.post("/custody/handovers/new/", data)
    again = client.post("/custody/handovers/new/", data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert HandoverBatch.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="returned").count() == 1


def test_a_held_item_is_named_at_review_and_nothing_is_handed_over(client_for, officer,
                                                                  investigator, stored,
                                                                  gate_store):
    free, held, _lot = stored
    services.legal_hold_set(actor=investigator, item=held, reason="Allegation A-17")
    client = client_for(officer)
    data = _prepared(gate_store, [free, held])
    for step in ("review", "complete"):
        page = client.post("/custody/handovers/new/", {**data, "step": step})
        assert page.status_code == 409, step
        html = page.content.decode()
        assert held.short_code in html and "A-17" not in html
    assert not HandoverBatch.objects.exists()
    free.refresh_from_db()
    assert free.state == State.IN_CUSTODY
    # the page offers the held item only as not selectable
    offered = client.get("/custody/handovers/new/", {"store": gate_store.short_code})
    box = (f'value="{held.short_code}" id="item-{held.short_code}" '
           f'aria-label="{held.short_code}" disabled')
    assert box in offered.content.decode()


def test_missing_fields_are_shown_on_the_form(client_for, officer, stored, gate_store):
    client = client_for(officer)
    client.cookies["django_language"] = "en"
    page = client.post("/custody/handovers/new/", {
        **_prepared(gate_store, [], recipient="", document=""), "step": "review"})
    assert page.status_code == 400
    html = page.content.decode()
    assert html.count('class="field-error"') >= 2
    page = client.post("/custody/handovers/new/", {**_prepared(gate_store, []), "step": "review"})
    assert page.status_code == 400 and "Choose at least one item." in page.content.decode()
    assert not HandoverBatch.objects.exists()


def test_another_sites_store_items_and_batches_answer_404(client_for, officer, make_user, sites,
                                                          stored, gate_store):
    batch = services.handover_return(actor=officer, items=stored[:1], client_key=uuid.uuid4(),
                                     recipient="Ministry", document="A")
    keeper = make_user("zzz-keeper", Role.CUSTODY_OFFICER, [sites["ZZZ"]])
    client = client_for(keeper)
    assert client.get("/custody/handovers/new/", {"store": gate_store.short_code}).status_code \
        == 404
    assert client.get(f"/custody/handovers/{batch.short_code}/").status_code == 404
    assert batch.short_code not in client.get("/custody/handovers/").content.decode()
    own = services.store_create(actor=keeper, site=sites["ZZZ"], name="Z")
    stolen = client.post("/custody/handovers/new/", {
        **_prepared(own, stored[1:2]), "step": "complete"})
    assert stolen.status_code == 404 and HandoverBatch.objects.count() == 1


def test_only_who_may_dispose_prepares_a_handover(client_for, officer, users):
    auditor = client_for(users[Role.AUDITOR])
    assert auditor.get("/custody/handovers/").status_code == 200
    assert b"/custody/handovers/new/" not in auditor.get("/custody/handovers/").content
    assert auditor.get("/custody/handovers/new/").status_code == 403
    reception = client_for(users[Role.RECEPTION_OFFICER])
    assert b'href="/custody/handovers/"' not in reception.get("/").content  # menu
    assert b'href="/custody/handovers/"' in client_for(officer).get("/").content
