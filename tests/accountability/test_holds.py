"""A hold set from the compartment blocks a destruction in custody (IDDRS 6.40), and the
reason never leaves the compartment."""

import uuid

import pytest

from mawa.accountability import services
from mawa.accountability.models import HoldRecord
from mawa.accounts.roles import Role
from mawa.core.errors import Conflict, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry

REASON = "Rifle identified by witness W-1 as used at the school on 3 November"


@pytest.fixture
def weapon(sites, users, persons):
    from mawa.custody import services as custody
    from mawa.custody.models import Kind, MaterielModel
    from mawa.custody.services import ItemInput

    officer = users[Role.CUSTODY_OFFICER]
    receipt = custody.receipt_open(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                   person=persons[0], witness="Sgt. Aziz")
    return custody.item_surrender(
        actor=officer, receipt=receipt, client_key=uuid.uuid4(), data=ItemInput(
            kind=Kind.WEAPON, catalogue=MaterielModel.objects.get(name="AKM"),
            serial_number="SN-4471", cleared_by="Cpl. Salem", verified_by="Lt. Nabil")).item


DESTROY = {"method": "cutting", "plan": "DP-1", "monitor": "ICRC observer"}


def test_a_hold_set_by_an_investigator_blocks_a_destruction_in_custody(
        event, act, investigator, users, weapon):
    from mawa.custody import services as custody

    services.act_item_link(actor=investigator, act=act, item=weapon.short_code)
    record = services.item_hold_set(actor=investigator, event=event, item=weapon,
                                    reason=REASON)
    with pytest.raises(Conflict) as exc:
        custody.item_event_record(actor=users[Role.CUSTODY_OFFICER], item=weapon,
                                  kind="destroyed", data=DESTROY)
    assert exc.value.code == "legal_hold"
    assert "W-1" not in str(exc.value.message)
    assert HoldRecord.objects.get(pk=record.pk).reason == REASON
    assert not LedgerEntry.objects.filter(payload__contains="W-1").exists()
    assert "W-1" not in record.hold.reason
    services.item_hold_lift(actor=investigator, record=record)
    weapon.refresh_from_db()
    custody.item_event_record(actor=users[Role.CUSTODY_OFFICER], item=weapon, kind="destroyed",
                              data=DESTROY)


def test_only_investigators_set_holds(event, users, weapon):
    for role in Role:
        if role == Role.INVESTIGATOR:
            continue
        with pytest.raises(NotFound):
            services.item_hold_set(actor=users[role], event=event, item=weapon, reason=REASON)
    assert not HoldRecord.objects.exists()


def test_a_hold_needs_a_reason(event, investigator, weapon):
    from mawa.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.item_hold_set(actor=investigator, event=event, item=weapon, reason=" ")


def test_a_hold_names_the_act_and_links_the_item_to_it(event, act, investigator, weapon):
    """Issue 15: a legal hold linked to the allegation but not to the act."""
    from mawa.accountability.models import ActItem

    record = services.item_hold_set(actor=investigator, event=event, item=weapon,
                                    reason=REASON, act=act.short_code)
    assert HoldRecord.objects.get(pk=record.pk).act == act
    assert ActItem.objects.filter(act=act, item=weapon).exists()
    with pytest.raises(ValidationFailed):
        services.item_hold_set(actor=investigator, event=event, item=weapon, reason=REASON,
                               act="NOPE-1")
