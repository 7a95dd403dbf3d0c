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
def test_the_whole_demo_loads_with_the_compartment():
    """Slow: the demo of every app, then a hold on a surrendered vehicle from here."""
    from mawa.accountability.models import HoldRecord
    from mawa.demo.loader import demo_load

    demo_load()
    assert HoldRecord.objects.filter(hold__item__kind="vehicle").exists()
    assert Event.objects.count() == 1
