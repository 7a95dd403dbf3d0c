import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mawa.accountability import services
from mawa.accountability.bundle import bundle_verify
from mawa.accountability.models import Referral
from mawa.core.errors import Conflict, Forbidden
from mawa.core.ledger import ledger_verify
from mawa.core.models import LedgerEntry

from .conftest import SENTENCE


@pytest.fixture
def referral(event, act, evidence, investigator, source):
    services.information_add(actor=investigator, source=source, event=event,
                             received_on=event.date_end, credibility="2", summary=SENTENCE)
    return services.referral_create(actor=investigator, event=event, client_key=uuid.uuid4(),
                                    recipient_kind="national_prosecutor",
                                    recipient_name="Office of the Prosecutor-General",
                                    purpose="Prosecution of the hostage-taking",
                                    evidence=[evidence])


@pytest.fixture
def approved(referral, investigator2):
    return services.referral_approve(actor=investigator2, referral=referral)


def test_the_requester_cannot_approve_their_own_referral(referral, investigator):
    with pytest.raises(Forbidden) as exc:
        services.referral_approve(actor=investigator, referral=referral)
    assert exc.value.code == "two_person_rule"
    assert Referral.objects.get(pk=referral.pk).status == "pending"
    assert LedgerEntry.objects.filter(stream=referral.stream,
                                      kind="referral.approval_refused").exists()


def test_the_database_refuses_a_self_approval_too(referral, investigator):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(approved_by=investigator,
                                                       status="approved")


def test_no_export_without_a_second_approval(referral, investigator):
    with pytest.raises(Conflict) as exc:
        services.referral_export(actor=investigator, referral=referral)
    assert exc.value.code == "not_approved"
    assert LedgerEntry.objects.filter(stream=referral.stream,
                                      kind="referral.export_refused").exists()


def test_a_source_whose_consent_excludes_the_recipient_blocks_the_bundle(
        event, evidence, investigator, investigator2, sites):
    shy = services.source_create(actor=investigator, site=sites["HQ"], name="Survivor S-2",
                                 kind="victim", consent_recipients=["un_mechanism"])
    services.information_add(actor=investigator, source=shy, event=event,
                             received_on=event.date_end)
    ref = services.referral_create(actor=investigator, event=event, client_key=uuid.uuid4(),
                                   recipient_kind="national_prosecutor", recipient_name="OPG",
                                   purpose="Prosecution", evidence=[evidence])
    services.referral_approve(actor=investigator2, referral=ref)
    with pytest.raises(Conflict) as exc:
        services.referral_export(actor=investigator, referral=ref)
    assert exc.value.code == "consent_excluded" and shy.short_code in str(exc.value.message)
    refused = LedgerEntry.objects.get(stream=ref.stream, kind="referral.export_refused")
    assert str(shy.id) in refused.payload
    assert Referral.objects.get(pk=ref.pk).status == "approved"


def test_an_exported_bundle_verifies_and_the_export_is_on_the_ledger(approved, investigator,
                                                                      evidence, tmp_path):
    data = services.referral_export(actor=investigator, referral=approved)
    report = bundle_verify(data)
    assert report.ok, report.problems
    assert report.files >= 5 and report.entries > 0 and report.checkpoints > 0
    assert LedgerEntry.objects.filter(stream=approved.stream, kind="referral.exported").exists()
    assert LedgerEntry.objects.filter(stream=evidence.stream, kind="evidence.exported").exists()
    assert ledger_verify().ok
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    call_command("verify-bundle", str(path))


def test_the_bundle_fails_after_any_byte_is_changed(approved, investigator, tmp_path):
    data = services.referral_export(actor=investigator, referral=approved)
    # Every byte is flipped in turn; the verifier must refuse each altered copy.
    step = max(1, len(data) // 1500)
    positions = sorted(set(range(0, len(data), step)) | {0, len(data) - 1})
    for pos in positions:
        altered = bytearray(data)
        altered[pos] ^= 0x01
        assert not bundle_verify(bytes(altered)).ok, f"byte {pos} changed went unnoticed"
    assert not bundle_verify(data + b"\0").ok
    assert not bundle_verify(data[:-1]).ok
    path = tmp_path / "altered.zip"
    altered = bytearray(data)
    altered[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(altered))
    with pytest.raises(CommandError):
        call_command("verify-bundle", str(path))


def test_a_bundle_signed_by_an_untrusted_key_is_refused(approved, investigator):
    data = services.referral_export(actor=investigator, referral=approved)
    assert not bundle_verify(data, trusted_keys={"0" * 16}).ok
    assert bundle_verify(data, trusted_keys={bundle_verify(data).key_id}).ok


def test_the_bundle_carries_each_sources_consent_scope_and_no_source_name(approved,
                                                                          investigator):
    import io
    import json
    import zipfile

    data = services.referral_export(actor=investigator, referral=approved)
    record = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("bag/data/referral.json"))
    assert record["sources"][0]["consent_scope"] == ["national_prosecutor", "un_mechanism"]
    assert b"Witness W-1" not in data
    roles = {i["role"] for i in record["acts"][0]["involvements"]}
    assert roles == {"alleged_perpetrator", "witness"}


def test_the_bundle_names_the_items_linked_to_an_act(approved, investigator, act, persons,
                                                     sites, users):
    """Was an AttributeError (found by mypy): the record read a field links do not have."""
    import io
    import json
    import zipfile

    from mawa.accounts.roles import Role
    from mawa.custody import services as custody
    from mawa.custody.models import Kind

    keeper = users[Role.CUSTODY_OFFICER]
    receipt = custody.receipt_open(actor=keeper, site=sites["RHM"], client_key=uuid.uuid4(),
                                   person=persons[0], witness="Sgt. A")
    item = custody.item_surrender(
        actor=keeper, receipt=receipt, client_key=uuid.uuid4(),
        data=custody.ItemInput(kind=Kind.WEAPON, make="Kalashnikov", model="AKM",
                               serial_number="RH-000777", cleared_by="Cpl. A",
                               verified_by="Lt. A")).item
    services.act_item_link(actor=investigator, act=act, item=item)
    data = services.referral_export(actor=investigator, referral=approved)
    record = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("bag/data/referral.json"))
    assert record["acts"][0]["items"] == [item.short_code]
