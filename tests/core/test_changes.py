"""Change capture (core.changes): numbering, chaining, bases and absorption while applying."""

import uuid

import pytest

from mawa.core.changes import (
    ChangeItem,
    change_applying,
    change_record,
    change_record_many,
    changes_stream,
    fields_digest,
    node_code,
)
from mawa.core.changes_models import Change, ChangeOp, RecordHead
from mawa.core.ledger import ledger_payload, ledger_verify
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(users):
    from mawa.accounts.roles import Role

    return users[Role.RECEPTION_OFFICER]


@pytest.fixture
def site(sites):
    return sites["RHM"]


def test_changes_are_numbered_chained_and_based_on_the_records_last_change(officer, site):
    rid = uuid.uuid4()
    first, other = change_record_many(
        [ChangeItem("reception.person", rid, ChangeOp.CREATE, {"given_ar": "محمد"}),
         ChangeItem("reception.person", uuid.uuid4(), ChangeOp.CREATE, {"given_ar": "علي"})],
        actor=officer, site=site)
    second = change_record(record_type="reception.person", record_id=rid, op=ChangeOp.UPDATE,
                           fields={"family_ar": "العبيدي"}, actor=officer, site=site)
    assert node_code() == "HQ"
    assert (first.seq, other.seq, second.seq) == (1, 2, 3)
    assert first.base is None and second.base == first.id
    assert RecordHead.objects.get(record_id=rid).change == second.id
    entry = LedgerEntry.objects.get(stream=changes_stream("HQ"), seq=3)
    payload = ledger_payload(entry)
    assert payload["id"] == str(second.id) and payload["base"] == str(first.id)
    assert payload["fields"] == fields_digest({"family_ar": "العبيدي"})
    assert Change.objects.get(pk=second.pk).fields == {"family_ar": "العبيدي"}
    assert ledger_verify().ok


def test_while_applying_a_change_from_elsewhere_captures_are_absorbed(officer, site):
    rid = uuid.uuid4()
    incoming = Change(id=uuid.uuid4(), node="QAM", seq=7, record_type="reception.person",
                      record_id=rid, op=ChangeOp.CREATE, fields={}, made_at="")
    with change_applying(incoming):
        made = change_record(record_type="reception.person", record_id=rid,
                             op=ChangeOp.CREATE, fields={"given_ar": "عمر"}, actor=officer,
                             site=site)
    assert made is None
    assert not Change.objects.exists()
    assert RecordHead.objects.get(record_id=rid).change == incoming.id
