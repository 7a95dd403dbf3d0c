"""Each role reaches what it should and gets 403/404 elsewhere."""

import pytest

from mawa.accounts import access
from mawa.accounts.roles import ROLE_PERMISSIONS, Perm, Role

pytestmark = pytest.mark.django_db


def test_every_role_is_defined_with_permissions():
    assert set(ROLE_PERMISSIONS) == set(Role)
    for perms in ROLE_PERMISSIONS.values():
        assert perms, "a role without permissions"


def test_only_investigators_hold_compartment_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        has = perms & access.COMPARTMENT_PERMS
        assert bool(has) == (role == Role.INVESTIGATOR), role


@pytest.mark.parametrize("role", list(Role))
def test_home_page_for_every_role(role, users, client_for):
    response = client_for(users[role]).get("/")
    assert response.status_code == 200


@pytest.mark.parametrize("role,status", [
    (Role.ADMINISTRATOR, 200), (Role.RECEPTION_OFFICER, 302), (Role.INVESTIGATOR, 302),
    (Role.AUDITOR, 302),
])
def test_django_admin_is_for_administrators_only(role, status, users, client_for):
    response = client_for(users[role]).get("/admin/")
    assert response.status_code == status
    if status == 302:
        assert "/admin/login/" in response["Location"]


def test_administrator_can_manage_users_in_admin(users, client_for):
    response = client_for(users[Role.ADMINISTRATOR]).get("/admin/accounts/user/")
    assert response.status_code == 200
    assert b"reception_officer" in response.content


@pytest.mark.parametrize("role,status", [
    (Role.AUDITOR, 200), (Role.ADMINISTRATOR, 200), (Role.RECEPTION_OFFICER, 403),
    (Role.INVESTIGATOR, 403), (Role.CAMP_STAFF, 403),
])
def test_ledger_page(role, status, users, client_for):
    assert client_for(users[role]).get("/ledger/").status_code == status


def test_ledger_verification_from_the_page(users, client_for):
    response = client_for(users[Role.AUDITOR]).post("/ledger/")
    assert response.status_code == 200
    assert b'data-testid="verify-ok"' in response.content


def test_denial_is_audited(users, client_for):
    from mawa.core.models import LedgerEntry

    client_for(users[Role.CAMP_STAFF]).get("/ledger/")
    entry = LedgerEntry.objects.filter(kind="audit.denied").latest("id")
    assert entry.actor == str(users[Role.CAMP_STAFF].pk)
    assert Perm.LEDGER_VIEW in entry.payload


def test_anonymous_is_sent_to_login(client):
    response = client.get("/ledger/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_site_location_is_restricted(users, sites, client_for):
    camp = sites["NUR"]
    url = f"/sites/{camp.pk}/location/"
    assert client_for(users[Role.CAMP_STAFF]).post(url).status_code == 403
    response = client_for(users[Role.CAMP_MANAGER]).post(url)
    assert response.status_code == 200
    assert b"32.771900" in response.content
    sites_page = client_for(users[Role.CAMP_STAFF]).get("/sites/")
    assert b"32.771900" not in sites_page.content


def test_location_reads_are_audited(users, sites, client_for):
    from mawa.core.models import LedgerEntry

    client_for(users[Role.CAMP_MANAGER]).post(f"/sites/{sites['NUR'].pk}/location/")
    entry = LedgerEntry.objects.filter(kind="audit.read").latest("id")
    assert str(sites["NUR"].pk) in entry.payload
    assert "32.77" not in entry.payload  # who and what, never the values


def test_site_scoping_hides_other_sites(users, sites, client_for):
    page = client_for(users["outsider"]).get("/sites/")
    assert b"ZZZ" in page.content
    assert b"RHM" not in page.content
    assert access.in_scope(users["outsider"], sites["ZZZ"])
    assert not access.in_scope(users["outsider"], sites["RHM"])
    assert access.in_scope(users[Role.INVESTIGATOR], sites["RHM"])  # all_sites


def test_site_switch_only_to_own_sites(users, sites, client_for):
    client = client_for(users[Role.PROTECTION_OFFICER])
    assert client.post("/accounts/site/", {"site_id": str(sites["NUR"].pk)}).status_code == 302
    assert client.post("/accounts/site/", {"site_id": str(sites["ZZZ"].pk)}).status_code == 404


def test_require_answers_not_found_for_the_compartment(users):
    from mawa.core.errors import Forbidden, NotFound

    with pytest.raises(NotFound):
        access.require(users[Role.ADMINISTRATOR], Perm.COMPARTMENT_VIEW)
    with pytest.raises(Forbidden):
        access.require(users[Role.CAMP_STAFF], Perm.LEDGER_VIEW)
    access.require(users[Role.INVESTIGATOR], Perm.COMPARTMENT_VIEW)


def test_inactive_user_has_no_permissions(users):
    user = users[Role.AUDITOR]
    user.is_active = False
    assert access.permissions_of(user) == frozenset()


def test_api_me_reports_role_and_sites(users, client_for):
    data = client_for(users["outsider"]).get("/api/me").json()
    assert data["role"] == "reception_officer"
    assert data["sites"] == ["ZZZ"]


def test_api_requires_login(client):
    assert client.get("/api/me").status_code == 401
