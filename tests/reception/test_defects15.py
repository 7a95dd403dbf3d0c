"""Defects met on the way (issue 15), reception side."""

import uuid

import pytest
from django.urls import reverse

from mawa.core.errors import ValidationFailed
from mawa.reception import services
from mawa.reception.services import PersonInput


def test_a_bad_group_cursor_gives_the_first_page_like_the_person_list(officer_client, group):
    url = reverse("reception:group_list")
    r = officer_client.get(url + "?before=notauuid")
    assert r.status_code == 200
    assert group.formation in r.content.decode()
    assert officer_client.get(reverse("reception:person_list") + "?after=notauuid").status_code \
        == 200


def test_a_16_year_old_by_approximate_age_is_not_accepted_as_a_combatant(sites, officer, group):
    base = {"given_ar": "محمد", "father_ar": "أحمد", "family_ar": "الحلبي", "sex": "male"}
    with pytest.raises(ValidationFailed) as exc:
        services.person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                 group=group, data=PersonInput(values={**base},
                                                               approximate_age=16))
    assert "approximate_age" in exc.value.fields
    child, _ = services.person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
        data=PersonInput(values={**base, "category": "child"}, approximate_age=16))
    assert child.category == "child"
