"""Printed custody documents leave through ``core.exports`` (protection.md R9, attack test 18):
every print of a receipt, of tag labels and of a handover document is checked against its own
export kind's permission at the document's site, and recorded on the ledger with the SHA-256
and size of the very bytes served — so the ledger accounts for every copy that left."""

import hashlib
import json
import uuid

import pytest

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry
from mawa.custody import exports as custody_exports
from mawa.custody import services

pytestmark = pytest.mark.django_db


def _recorded(kind: str) -> list[dict]:
    entries = LedgerEntry.objects.filter(stream="audit", kind="audit.export",
                                         payload__contains=f'"export":"{kind}"').order_by("seq")
    return [{**json.loads(e.payload)["detail"], "actor": e.actor} for e in entries]


def _served(response) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return response.content


@pytest.fixture
def issued(officer, receipt, surrender):
    surrender()
    surrender(accepted=False, refusal_reason="Barrel cut")
    return services.receipt_issue(actor=officer, receipt=receipt)


@pytest.fixture
def batch(officer, surrender, sites, person):
    own = services.receipt_open(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                person=person)
    rifle = surrender(own)
    return services.handover_return(actor=officer, items=[rifle], client_key=uuid.uuid4(),
                                    recipient="Ministry of Defence",
                                    delegation=["Col. Aziz Haddad"], document="Agreement 4")


def test_each_print_of_a_receipt_is_on_the_ledger_with_the_hash_of_the_bytes_served(
        client_for, officer, issued, person):
    client = client_for(officer)
    first = _served(client.get(f"/custody/receipts/{issued.short_code}/receipt.pdf"))
    second = _served(client.get(f"/custody/receipts/{issued.short_code}/receipt.pdf"))
    records = _recorded("custody_receipt_pdf")
    assert len(records) == 2  # every copy that left
    for record, served in zip(records, (first, second), strict=True):
        assert record["sha256"] == hashlib.sha256(served).hexdigest()
        assert record["size"] == len(served)
        assert record["purpose"] == custody_exports.RECEIPT_PURPOSE
        assert record["recipient"] == person.short_code  # a code, never the name
        assert record["receipt"] == issued.short_code
        assert record["encrypted"] == "no" and record["actor"] == str(officer.pk)
    assert "al-Halabi" not in json.dumps(records) and "الحلبي" not in json.dumps(records)


def test_labels_of_a_receipt_and_of_one_item_are_recorded(client_for, officer, issued):
    client = client_for(officer)
    sheet = _served(client.get(f"/custody/receipts/{issued.short_code}/labels.pdf"))
    item = issued.items.filter(state="in_custody").get()
    one = _served(client.get(f"/custody/items/{item.short_code}/label.pdf"))
    receipt_labels, item_label = _recorded("custody_labels_pdf")
    assert receipt_labels["sha256"] == hashlib.sha256(sheet).hexdigest()
    assert (receipt_labels["receipt"], receipt_labels["labels"]) == (issued.short_code, 1)
    assert item_label["sha256"] == hashlib.sha256(one).hexdigest()
    assert item_label["items"] == [item.short_code]
    assert item_label["purpose"] == custody_exports.LABELS_PURPOSE


def test_the_handover_document_is_recorded_without_the_delegations_names(client_for, officer,
                                                                         batch):
    pdf = _served(client_for(officer).get(f"/custody/handovers/{batch.short_code}/handover.pdf"))
    (record,) = _recorded("custody_handover_pdf")
    assert record["sha256"] == hashlib.sha256(pdf).hexdigest() and record["size"] == len(pdf)
    assert record["purpose"] == custody_exports.HANDOVER_PURPOSE
    assert (record["batch"], record["items"]) == (batch.short_code, 1)
    assert "Haddad" not in json.dumps(record)


def test_roles_without_the_print_permission_get_the_policys_answer(client_for, users, issued,
                                                                  batch):
    """Reception officers and auditors may read custody records but not print them: 403, as
    ``access.require`` answers a role refusal, the refusal audited and nothing recorded."""
    item = issued.items.filter(state="in_custody").get()
    reception = client_for(users[Role.RECEPTION_OFFICER])
    for url in (f"/custody/receipts/{issued.short_code}/receipt.pdf",
                f"/custody/receipts/{issued.short_code}/labels.pdf",
                f"/custody/items/{item.short_code}/label.pdf"):
        assert reception.get(f"/custody/receipts/{issued.short_code}/").status_code == 200
        assert reception.get(url).status_code == 403, url
    auditor = client_for(users[Role.AUDITOR])
    assert auditor.get(f"/custody/handovers/{batch.short_code}/").status_code == 200
    assert auditor.get(f"/custody/handovers/{batch.short_code}/handover.pdf").status_code == 403
    assert not LedgerEntry.objects.filter(kind="audit.export").exists()
    denied = LedgerEntry.objects.filter(kind="audit.denied")
    assert denied.filter(payload__contains='"permission":"custody.record"').count() == 3
    assert denied.filter(payload__contains='"permission":"custody.dispose"').count() == 1


def test_another_sites_documents_answer_404_and_nothing_is_recorded(client_for, make_user,
                                                                    sites, issued, batch):
    keeper = make_user("zzz-keeper", Role.CUSTODY_OFFICER, [sites["ZZZ"]])
    client = client_for(keeper)
    item = issued.items.filter(state="in_custody").get()
    for url in (f"/custody/receipts/{issued.short_code}/receipt.pdf",
                f"/custody/receipts/{issued.short_code}/labels.pdf",
                f"/custody/items/{item.short_code}/label.pdf",
                f"/custody/handovers/{batch.short_code}/handover.pdf"):
        assert client.get(url).status_code == 404, url
    assert not LedgerEntry.objects.filter(kind="audit.export").exists()


def test_an_open_receipt_has_no_pdf(client_for, officer, receipt, surrender):
    surrender()
    assert client_for(officer).get(
        f"/custody/receipts/{receipt.short_code}/receipt.pdf").status_code == 404
    assert _recorded("custody_receipt_pdf") == []


def test_print_buttons_are_shown_to_who_may_print(client_for, officer, users, issued):
    url = f"/custody/receipts/{issued.short_code}/"
    assert b"/receipt.pdf" in client_for(officer).get(url).content
    page = client_for(users[Role.RECEPTION_OFFICER]).get(url).content
    assert b"/receipt.pdf" not in page and b"/labels.pdf" not in page
