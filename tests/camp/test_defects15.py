"""Defects met on the way (issue 15), camp side."""

import uuid

from django.urls import reverse
from django.utils import timezone

from mawa.camp.models import Incident


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
