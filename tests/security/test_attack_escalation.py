"""Attack 4 (protection.md R2, R3): nobody grants a role they lack, edits their own role or
scope, or mass-assigns role, site or status."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mawa.accounts.roles import Role

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMINISTRATOR])
def test_no_role_but_the_administrator_reaches_user_management(role, local, sites):
    """Attack 4: the user admin (the only place roles and sites are set) is closed to every
    other role, and a POST there changes nothing about the poster."""
    user = local[role]
    client = _client(user)
    assert client.get("/admin/accounts/user/").status_code in (302, 403, 404)
    client.post(f"/admin/accounts/user/{user.pk}/change/",
                {"username": user.username, "role": Role.ADMINISTRATOR, "all_sites": "on",
                 "sites": [str(sites["ZZZ"].pk)], "is_staff": "on", "is_superuser": "on"})
    user.refresh_from_db()
    assert user.role == role and not user.all_sites and not user.is_superuser
    assert set(user.sites.values_list("code", flat=True)) == {"RHM", "NUR"}


def test_the_api_offers_no_way_to_change_ones_own_account(local):
    """Attack 4: /api/me is read-only; writing to it is refused and changes nothing."""
    user = local[Role.RECEPTION_OFFICER]
    client = _client(user)
    for method in ("post", "patch", "put"):
        response = getattr(client, method)("/api/me", content_type="application/json",
                                           data=json.dumps({"role": "administrator",
                                                            "all_sites": True}))
        assert response.status_code == 405
    user.refresh_from_db()
    assert user.role == Role.RECEPTION_OFFICER and not user.all_sites


def test_switching_to_another_sites_id_is_refused(local, world):
    """Attack 4 / R3: the site switcher takes only the user's own sites; another site's id
    answers 404 and the scope stays as it was."""
    client = _client(local[Role.RECEPTION_OFFICER])
    response = client.post("/accounts/site/", {"site_id": str(world["ZZZ"].pk)})
    assert response.status_code == 404
    me = client.get("/api/me").json()
    assert set(me["sites"]) == {"RHM", "NUR"}
    listed = client.get("/api/reception/persons").content
    assert b"Faris" not in listed


def test_mass_assignment_of_site_status_or_flags_is_refused(local, sites):
    """Attack 4 / R2: registering or correcting a person with status, site or protection
    fields in the body is refused and nothing is stored with them."""
    import uuid

    from mawa.reception.models import Person

    client = _client(local[Role.RECEPTION_OFFICER])
    before = Person.objects.count()
    response = client.post("/api/reception/persons", content_type="application/json",
                           data=json.dumps({"client_key": str(uuid.uuid4()), "site": "RHM",
                                            "values": {"given_lat": "Mass", "sex": "male",
                                                       "status": "released",
                                                       "site": str(sites["ZZZ"].pk)}}))
    assert response.status_code in (400, 403, 422)
    assert Person.objects.count() == before
