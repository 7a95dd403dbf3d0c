"""Defects met on the way (issue 15), camp side."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from mawa.camp import services
from mawa.camp.models import Distribution, Incident


@pytest.fixture
def lunch(camp, manager):
    item = services.item_type_create(actor=manager, site=camp, client_key=uuid.uuid4(), data={
        "name_ar": "غداء", "name_en": "Lunch", "max_per_day": 1})
    services.stock_adjust(actor=manager, item=item, quantity=5, reason="delivery",
                          client_key=uuid.uuid4())
    item.refresh_from_db()
    return item


def test_camp_staff_saving_a_sensitive_incident_land_on_a_page_they_may_see(client_for, staff,
                                                                            housed):
    c = client_for(staff)
    r = c.post(reverse("camp:incidents"), {
        "client_key": uuid.uuid4(), "kind": "sgbv", "severity": "high",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "summary": "Reported by a neighbour", "codes": housed[0].short_code}, follow=True)
    assert Incident.objects.get().is_sensitive
    assert r.status_code == 200
    assert r.redirect_chain[-1][0].startswith(reverse("camp:incidents"))
    assert "protection" in r.content.decode()


def test_at_most_one_a_day_counts_quantity_not_scans(housed, lunch, staff):
    with pytest.raises(services.Refused) as exc:
        services.distribution_record(actor=staff, item=lunch, person=housed[0],
                                     client_key=uuid.uuid4(), quantity=2)
    assert exc.value.code == "rule_max_per_day"
    assert not Distribution.objects.exists()
