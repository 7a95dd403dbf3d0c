"""Issue 20, item 1: no administrator above the compartment. Granting the investigator role,
creating an investigator or widening an investigator's sites needs a step-up and a second
administrator; each step is on the ledger; the Django admin offers no other way."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from mawa.accounts import access, services
from mawa.accounts.models import GrantRequest, User
from mawa.accounts.roles import Perm, Role
from mawa.core.errors import Forbidden
from mawa.core.ledger import ledger_payload, ledger_verify
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def audit_actions(user=None) -> list[str]:
    out = []
    for entry in LedgerEntry.objects.filter(stream="audit").order_by("seq"):
        payload = ledger_payload(entry)
        if user is None or payload.get("object_id") == str(user.pk):
            out.append(payload["action"])
    return out


def entries(action: str) -> list[dict]:
    return [ledger_payload(e) for e in
            LedgerEntry.objects.filter(stream="audit", kind=f"audit.{action}").order_by("seq")]


@pytest.fixture
def admins(sites, make_user):
    return (make_user("admin_a", Role.ADMINISTRATOR, all_sites=True),
            make_user("admin_b", Role.ADMINISTRATOR, all_sites=True))


def stepped_up(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    return client


def reaches_compartment(user) -> bool:
    user = User.objects.get(pk=user.pk)
    return access.can(user, Perm.COMPARTMENT_VIEW)


# --- the Django admin offers no way -----------------------------------------------------

def test_admin_cannot_create_an_investigator_through_the_admin_pages(admins, sites):
    client = stepped_up(admins[0])
    assert client.get("/admin/accounts/user/add/").status_code == 403
    response = client.post("/admin/accounts/user/add/", {
        "username": "mole", "password1": "a long passphrase 123", "password2":
        "a long passphrase 123", "usable_password": "true", "role": Role.INVESTIGATOR,
        "all_sites": "on"})
    assert response.status_code == 403
    assert not User.objects.filter(username="mole").exists()


def test_admin_cannot_grant_the_role_or_sites_through_the_admin_pages(admins, users, sites):
    client = stepped_up(admins[0])
    target = users[Role.RECEPTION_OFFICER]
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert page.status_code == 200
    assert b'name="role"' not in page.content and b'name="sites"' not in page.content
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", {
        "username": target.username, "first_name": "Renamed", "last_name": "",
        "email": "", "language": "en", "role": Role.INVESTIGATOR, "all_sites": "on",
        "sites": [str(sites["ZZZ"].pk)], "is_superuser": "on", "is_staff": "on",
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.first_name == "Renamed"  # the name went through
    assert target.role == Role.RECEPTION_OFFICER and not target.is_superuser
    assert set(target.sites.values_list("code", flat=True)) == {"RHM", "NUR"}
    assert not reaches_compartment(target)
    # and the name change is on the ledger, through the services
    (update,) = [e for e in entries("update") if e["object_id"] == str(target.pk)]
    assert update["detail"]["fields"] == ["first_name", "language"]


def test_admin_cannot_set_an_investigators_password_nor_delete_accounts(admins, users):
    client = stepped_up(admins[0])
    investigator = users[Role.INVESTIGATOR]
    assert client.get(
        f"/admin/accounts/user/{investigator.pk}/password/").status_code == 403
    assert client.post(f"/admin/accounts/user/{investigator.pk}/password/", {
        "password1": "a long passphrase 123", "password2": "a long passphrase 123",
        "usable_password": "true"}).status_code == 403
    investigator.refresh_from_db()
    assert investigator.check_password(PASSWORD)
    assert client.post(f"/admin/accounts/user/{investigator.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=investigator.pk).exists()


# --- Mawa's pages: step-up, a second administrator, the ledger ----------------------------

def test_creating_an_investigator_needs_step_up_and_a_second_administrator(admins, sites):
    a, b = admins
    # without a fresh step-up, the page sends to the step-up
    stale = Client()
    stale.force_login(a)
    assert "/accounts/confirm/" in stale.get("/accounts/users/new/")["Location"]
    with pytest.raises(Forbidden):  # and the service refuses without one, too
        services.user_create(actor=a, username="mole", password="a long passphrase 123",
                             role=Role.INVESTIGATOR, all_sites=True)
    assert not User.objects.filter(username="mole").exists()

    client = stepped_up(a)
    response = client.post("/accounts/users/new/", {
        "username": "inv2", "first_name": "New", "last_name": "", "email": "",
        "language": "ar", "password": "a long passphrase 123", "role": Role.INVESTIGATOR,
        "sites": [str(sites["HQ"].pk)], "is_active": "on"})
    assert response.status_code == 302 and "/accounts/grants/" in response["Location"]
    new = User.objects.get(username="inv2")
    assert new.role == "" and not reaches_compartment(new)  # nothing until approved
    grant = GrantRequest.objects.get(target=new)
    assert grant.status == GrantRequest.Status.PENDING and grant.requested_by == a

    # the requester cannot approve their own request
    assert client.post(response["Location"], {"decision": "approve"}).status_code == 403
    grant.refresh_from_db()
    assert grant.status == GrantRequest.Status.PENDING and not reaches_compartment(new)

    # the second administrator approves: now it takes effect
    assert stepped_up(b).post(response["Location"], {"decision": "approve"}).status_code == 302
    grant.refresh_from_db()
    assert grant.status == GrantRequest.Status.APPROVED and grant.decided_by == b
    assert reaches_compartment(new)
    assert set(new.sites.values_list("code", flat=True)) == {"HQ"}

    actions = audit_actions()
    for step in ("user_create", "grant_requested", "grant_approve_refused", "grant_approved",
                 "role_change", "sites_change"):
        assert step in actions, step
    (requested,) = entries("grant_requested")
    assert requested["detail"]["role"] == Role.INVESTIGATOR
    assert requested["detail"]["sites"] == ["HQ"]
    (role_change,) = [e for e in entries("role_change") if e["object_id"] == str(new.pk)]
    assert role_change["detail"]["to"] == Role.INVESTIGATOR
    assert role_change["detail"]["grant_request"] == str(grant.pk)
    assert ledger_verify().ok


def test_the_step_up_is_on_the_ledger(admins, sites):
    from mawa.accounts.services import totp_code_at, totp_enrol_confirm, totp_secret_new

    a = admins[0]
    secret = totp_secret_new()
    now = time.time()
    totp_enrol_confirm(user=a, secret=secret, code=totp_code_at(secret, now))
    client = Client()
    client.force_login(a)
    wrong = client.post("/accounts/confirm/", {"password": "nope", "code": "000000"})
    assert wrong.status_code == 200
    ok = client.post("/accounts/confirm/?next=/accounts/users/new/",
                     {"password": PASSWORD, "code": totp_code_at(secret, now + 30)})
    assert ok.status_code == 302 and ok["Location"] == "/accounts/users/new/"
    steps = entries("step_up")
    assert [s["outcome"] for s in steps] == ["denied", "ok"]
    assert client.get("/accounts/users/new/").status_code == 200


def test_granting_the_role_to_an_existing_account_waits_for_approval(admins, users):
    a, b = admins
    target = users[Role.AUDITOR]
    grant = services.user_access_change(actor=a, user=target, role=Role.INVESTIGATOR,
                                        site_ids=set(), all_sites=True, is_active=True,
                                        step_up_at=time.time())
    assert grant is not None
    target.refresh_from_db()
    assert target.role == Role.AUDITOR and not reaches_compartment(target)
    with pytest.raises(Forbidden):
        services.grant_approve(actor=a, request_id=grant.pk, step_up_at=time.time())
    with pytest.raises(Forbidden):  # the approver steps up too
        services.grant_approve(actor=b, request_id=grant.pk, step_up_at=None)
    services.grant_approve(actor=b, request_id=grant.pk, step_up_at=time.time())
    assert reaches_compartment(target)


def test_widening_an_investigators_sites_waits_for_approval(admins, users, sites):
    a, b = admins
    inv = users[Role.INVESTIGATOR]
    services.user_access_change(actor=a, user=inv, role=Role.INVESTIGATOR,
                                site_ids={sites["RHM"].pk}, all_sites=False, is_active=True)
    inv.refresh_from_db()
    assert not inv.all_sites  # narrowing applies at once, on the ledger
    assert {"all_sites_change", "sites_change"} <= set(audit_actions(inv))
    client = stepped_up(a)
    response = client.post(f"/accounts/users/{inv.pk}/", {
        "role": Role.INVESTIGATOR, "sites": [str(sites["RHM"].pk), str(sites["ZZZ"].pk)],
        "is_active": "on"})
    assert "/accounts/grants/" in response["Location"]
    assert set(inv.sites.values_list("code", flat=True)) == {"RHM"}
    grant = GrantRequest.objects.get(target=inv)
    stepped_up(b).post(f"/accounts/grants/{grant.pk}/", {"decision": "refuse"})
    grant.refresh_from_db()
    assert grant.status == GrantRequest.Status.REFUSED
    assert set(inv.sites.values_list("code", flat=True)) == {"RHM"}
    assert "grant_refused" in audit_actions()


def test_a_second_administrators_refusal_and_a_database_guard(admins, users):
    from django.db import IntegrityError, transaction

    a, _b = admins
    grant = services.user_access_change(actor=a, user=users[Role.AUDITOR],
                                        role=Role.INVESTIGATOR, site_ids=set(),
                                        all_sites=True, is_active=True, step_up_at=time.time())
    with pytest.raises(IntegrityError), transaction.atomic():
        GrantRequest.objects.filter(pk=grant.pk).update(decided_by=a, status="approved")


def test_reactivating_an_investigator_and_resetting_their_two_factor_need_four_eyes(
        admins, users):
    from mawa.accounts.models import TOTPDevice
    from mawa.accounts.services import totp_code_at, totp_enrol_confirm, totp_secret_new

    a, b = admins
    inv = users[Role.INVESTIGATOR]
    services.user_access_change(actor=a, user=inv, role=inv.role, site_ids=set(),
                                all_sites=True, is_active=False)
    inv.refresh_from_db()
    assert not inv.is_active
    grant = services.user_access_change(actor=a, user=inv, role=inv.role, site_ids=set(),
                                        all_sites=True, is_active=True, step_up_at=time.time())
    assert grant is not None
    inv.refresh_from_db()
    assert not inv.is_active
    services.grant_approve(actor=b, request_id=grant.pk, step_up_at=time.time())
    inv.refresh_from_db()
    assert inv.is_active

    secret = totp_secret_new()
    totp_enrol_confirm(user=inv, secret=secret, code=totp_code_at(secret, time.time()))
    reset = services.two_factor_reset(actor=a, user=inv, step_up_at=time.time())
    assert reset is not None and TOTPDevice.objects.filter(user=inv).exists()
    services.grant_approve(actor=b, request_id=reset.pk, step_up_at=time.time())
    assert not TOTPDevice.objects.filter(user=inv).exists()
    assert "two_factor_reset" in audit_actions(inv)


def test_only_administrators_reach_the_user_pages(users):
    for role in Role:
        if role == Role.ADMINISTRATOR:
            continue
        client = stepped_up(users[role])
        assert client.get("/accounts/users/").status_code == 403
        assert client.get("/accounts/users/new/").status_code == 403


def test_an_administrator_of_some_sites_gives_only_those(users, sites, make_user):
    from mawa.core.errors import NotFound

    local_admin = make_user("admin_local", Role.ADMINISTRATOR, [sites["RHM"]])
    target = make_user("clerk_rhm", Role.RECEPTION_OFFICER, [sites["RHM"]])
    for change in ({"all_sites": True, "site_ids": {sites["RHM"].pk}},
                   {"all_sites": False, "site_ids": {sites["RHM"].pk, sites["ZZZ"].pk}}):
        with pytest.raises(NotFound):
            services.user_access_change(actor=local_admin, user=target,
                                        role=Role.RECEPTION_OFFICER, is_active=True, **change)
    with pytest.raises(NotFound):  # an account of other sites does not exist for them
        services.user_access_change(actor=local_admin, user=users["outsider"],
                                    role=Role.CAMP_STAFF, is_active=True, all_sites=False,
                                    site_ids=set())
    target.refresh_from_db()
    assert not target.all_sites and set(target.sites.values_list("code", flat=True)) == {"RHM"}
