import pytest

from mawa.accountability import demo
from mawa.accountability.models import Event, EvidenceItem, Involvement, Referral
from mawa.accountability.services import evidence_fixity_check


def test_the_demo_records_an_allegation_with_evidence_and_a_referral(sites, users, persons,
                                                                     investigator2, settings,
                                                                     tmp_path):
    demo.demo_load(sites=sites, users=users)
    assert Event.objects.count() == 1
    roles = set(Involvement.objects.values_list("role", flat=True))
    assert {"alleged_perpetrator", "witness", "commander"} <= roles
    assert EvidenceItem.objects.count() == 2
    assert all(r["ok"] for r in evidence_fixity_check())
    assert Referral.objects.get().status == "approved"


@pytest.mark.django_db
def test_the_whole_demo_loads_with_the_compartment(settings, tmp_path):
    settings.MAWA_DEMO_ACCOUNTS_FILE = str(tmp_path / "accounts.json")
    """The demo of every app (small), with a hold on two surrendered rifles from here."""
    from mawa.accountability.models import HoldRecord
    from mawa.demo.loader import demo_load

    demo_load(size=300)
    held = HoldRecord.objects.filter(hold__item__kind="weapon")
    assert held.count() == 2
    assert {h.hold.item.iti_category for h in held} == {"SA-assault"}
    assert Event.objects.count() == 1
