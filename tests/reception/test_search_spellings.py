"""The ordinary person search meets the spellings the matching engine holds to be one name
(issue 14: one normaliser, ``mawa.names``, for search, suggestions, dedupe and screening),
and keeps apart the names it keeps apart."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from mawa.accounts.roles import Role
from mawa.names import search_keys
from mawa.reception import selectors, services
from mawa.reception.models import PersonNameKey
from mawa.reception.services import PersonInput

pytestmark = pytest.mark.django_db

ABDUL_RAHMAN = ("عبدالرحمن", "Abdelrahman", "Abd al-Rahman", "عبد الرحمن", "Abdul Rahman",
                "abd-ur-rahman")


@pytest.fixture
def abdul_rahman(register):
    """Registered as عبد الرحمن / Abdul Rahman (given name), al-Khatib (family name)."""
    person, _ = register(given_ar="عبد الرحمن", given_lat="Abdul Rahman", father_ar="",
                         family_ar="الخطيب", family_lat="al-Khatib", service_number="")
    return person


@pytest.fixture
def amr(register):
    """Registered as عمرو / Amr (given name), al-Halabi."""
    person, _ = register(given_ar="عمرو", given_lat="Amr", father_ar="", service_number="")
    return person


def _found(user, q) -> list:
    return [p.id for p in selectors.person_search(user=user, q=q).persons]


@pytest.mark.parametrize("spelling", ABDUL_RAHMAN)
def test_every_spelling_of_the_given_name_finds_the_person(abdul_rahman, officer, spelling):
    assert _found(officer, spelling) == [abdul_rahman.id]
    # with the family name, in either script and either order
    assert _found(officer, f"{spelling} الخطيب") == [abdul_rahman.id]
    assert _found(officer, f"Khatib {spelling}") == [abdul_rahman.id]


def test_the_person_list_page_finds_the_spellings(abdul_rahman, amr, client_for, officer):
    client = client_for(officer)
    for spelling in ("عبدالرحمن", "Abdelrahman", "Abd al-Rahman"):
        html = client.post(reverse("reception:person_list"), {"q": spelling}).content.decode()
        assert abdul_rahman.short_code in html, spelling
        assert amr.short_code not in html, spelling
    html = client.post(reverse("reception:person_list"),
                       {"q": "Abdelrahman al-Khatib"}).content.decode()
    assert abdul_rahman.short_code in html


@pytest.mark.parametrize("spelling", ["عمر", "Omar", "عمر الحلبي", "Omar Halabi"])
def test_omar_does_not_find_amr(amr, abdul_rahman, officer, spelling):
    assert _found(officer, spelling) == []


def test_amr_finds_amr_in_either_script(amr, officer):
    assert _found(officer, "عمرو") == _found(officer, "Amr") == [amr.id]
    assert _found(officer, "Amr al-Halabi") == [amr.id]


@pytest.mark.parametrize("unrelated", ["عبد الله", "Abdullah", "Rahman", "Abd al-Karim",
                                       "سامر", "Abdelrahman al-Shami"])
def test_an_unrelated_name_does_not_match(abdul_rahman, amr, officer, unrelated):
    assert _found(officer, unrelated) == []


def test_the_stored_keys_are_those_of_mawa_names(abdul_rahman):
    """The keys written at registration are ``mawa.names.search_keys`` of each name part, so
    what a search asks is what was stored."""
    stored = set(PersonNameKey.objects.filter(person=abdul_rahman).values_list("part", "key"))
    assert stored == {("given", k) for k in search_keys("عبد الرحمن")} | {
        ("family", k) for k in (*search_keys("الخطيب"), *search_keys("al-Khatib"))}
    for spelling in ABDUL_RAHMAN:
        assert set(search_keys(spelling, query=True)) <= {k for _p, k in stored}


def test_a_person_registered_elsewhere_is_still_not_found(abdul_rahman, users, sites,
                                                          officer):
    outsider = users["outsider"]
    theirs, _ = services.person_register(
        actor=outsider, site=sites["ZZZ"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "عبدالرحمن", "sex": "male"}, birth="1990"))
    assert _found(officer, "Abd al-Rahman") == [abdul_rahman.id]
    assert _found(outsider, "Abd al-Rahman") == [theirs.id]
    assert _found(users[Role.INVESTIGATOR], "Abd al-Rahman") == [theirs.id, abdul_rahman.id]
