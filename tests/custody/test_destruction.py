"""The destruction certificate (issue 16): every item destroyed under one plan at one site,
with method, witnesses, the evidence checks and signatures; printed from the destroyed item's
page, checked and recorded like the other printed custody documents."""

import datetime as dt
import hashlib
import json
import uuid

import pytest

from mawa.core.errors import NotFound
from mawa.core.models import LedgerEntry
from mawa.custody import exports as custody_exports
from mawa.custody import selectors, services

pytestmark = pytest.mark.django_db

DESTROY = {"method": "Cutting (torch)", "plan": "DP-7", "monitor": "Maj. Karim Nasser",
           "certified_by": "Capt. Lina Saad"}


@pytest.fixture
def destroyed(officer, receipt, surrender):
    first, second, other = surrender(), surrender(), surrender()
    services.receipt_issue(actor=officer, receipt=receipt)
    out = [services.item_event_record(actor=officer, item=i, kind="destroyed", data=DESTROY)
           for i in (first, second)]
    services.item_event_record(actor=officer, item=other, kind="destroyed",
                               data={**DESTROY, "plan": "DP-8"})
    return out


def test_the_certificate_lists_every_item_of_the_plan_with_its_checks(officer, destroyed):
    certificate = selectors.destruction_get(user=officer, code=destroyed[1].short_code)
    assert certificate.plan == "DP-7"
    assert [ln.item.short_code for ln in certificate.lines] == \
        sorted(i.short_code for i in destroyed)  # the other plan's item is not on it
    assert certificate.methods == ["Cutting (torch)"]
    assert certificate.monitors == ["Maj. Karim Nasser"]
    assert certificate.certifiers == ["Capt. Lina Saad"]
    assert certificate.held == 0
    assert all(ln.ledger_ref.startswith("custody/RHM#") for ln in certificate.lines)
    # the custody officer is no user of the compartment: links are not asked, not shown
    assert not certificate.links_shown and not certificate.links_checked


def test_an_item_not_destroyed_has_no_certificate(officer, receipt, surrender):
    item = surrender()
    with pytest.raises(NotFound):
        selectors.destruction_get(user=officer, code=item.short_code)


def test_allegation_links_are_shown_to_the_compartment_only(officer, investigator, receipt,
                                                           surrender, sites):
    from mawa.accountability import services as acc

    item = surrender()
    services.receipt_issue(actor=officer, receipt=receipt)
    event = acc.event_create(actor=investigator, site=sites["RHM"], client_key=uuid.uuid4(),
                             title="Shelling", date_start=dt.date(2024, 1, 2))
    act = acc.act_add(actor=investigator, event=event, violation="8.2.b.i")
    acc.act_item_link(actor=investigator, act=act, item=item)
    services.item_event_record(actor=officer, item=item, kind="destroyed", data=DESTROY)
    seen = selectors.destruction_get(user=investigator, code=item.short_code)
    assert seen.links_shown and seen.links_checked and seen.linked == 1
    hidden = selectors.destruction_get(user=officer, code=item.short_code)
    assert not hidden.links_shown and hidden.linked == 0


def test_the_printed_certificate_is_on_the_ledger_and_the_page_offers_it(client_for, officer,
                                                                         destroyed):
    client = client_for(officer)
    page = client.get(f"/custody/items/{destroyed[0].short_code}/")
    assert b'data-testid="destruction-certificate"' in page.content
    response = client.get(f"/custody/items/{destroyed[0].short_code}/destruction.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    entry = LedgerEntry.objects.get(kind="audit.export",
                                    payload__contains='"export":"custody_destruction_pdf"')
    detail = json.loads(entry.payload)["detail"]
    assert detail["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert detail["purpose"] == custody_exports.DESTRUCTION_PURPOSE
    assert detail["plan"] == "DP-7" and len(detail["items"]) == 2


def test_roles_without_the_disposal_permission_cannot_print_it(client_for, users, destroyed):
    from mawa.accounts.roles import Role

    client = client_for(users[Role.RECEPTION_OFFICER])
    assert client.get(f"/custody/items/{destroyed[0].short_code}/destruction.pdf"
                      ).status_code == 403
    page = client_for(users[Role.AUDITOR]).get(f"/custody/items/{destroyed[0].short_code}/")
    assert b"destruction-certificate" not in page.content
