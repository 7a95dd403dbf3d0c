"""The sync page (issue 17): who sees it, site scoping, conflicts of other sites answer like
unknown records (IDOR), both versions side by side in the reader's language, one decision
however many times the buttons are pressed."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.core.changes_models import (
    Change,
    ChangeOp,
    ChangeState,
    ConflictKind,
    Node,
    NodeRole,
    RecordHead,
    SyncConflict,
)
from mawa.core.ids import uuid7
from mawa.reception import services as reception_services
from mawa.reception.services import PersonInput
from mawa.sync import services as sync_services

pytestmark = pytest.mark.django_db

INSTALLATION = uuid.uuid4()


def _person(actor, site, given_lat):
    group = reception_services.arrival_group_create(
        actor=actor, site=site, client_key=uuid.uuid4(),
        arrived_at=timezone.now() - dt.timedelta(hours=1), reported_count=1)
    return reception_services.person_register(
        actor=actor, site=site, client_key=uuid.uuid4(), group=group,
        data=PersonInput(values={"given_ar": "محمد", "family_ar": "الحلبي",
                                 "given_lat": given_lat, "sex": "male"}, birth="1990"))[0]


_seq = iter(range(10_000, 20_000))


def _conflict(person, site_code, *, here="Muhammad", there="Mohamed"):
    """An update of ``person`` made at post QAM on a version HQ has changed since."""
    # the post's officer who made it is a user here too (users come down from HQ): taking
    # their change replays it as them (sync17's conflict_decide)
    qam_officer, _made = User.objects.get_or_create(
        username="qam_officer", defaults={"role": Role.RECEPTION_OFFICER})
    qam_officer.sites.add(person.current_site)
    origin = Change.objects.create(
        id=uuid7(), node="HQ", seq=next(_seq), record_type="reception.person",
        record_id=person.pk, op=ChangeOp.CREATE, fields={"given_lat": "Muhamad"},
        actor="reception_officer", site=site_code, made_at="2026-12-01T08:00:00+00:00")
    current = Change.objects.create(
        id=uuid7(), node="HQ", seq=next(_seq), record_type="reception.person",
        record_id=person.pk, op=ChangeOp.UPDATE, base=origin.id, fields={"given_lat": here},
        actor="reception_officer", site=site_code, made_at="2026-12-02T09:00:00+00:00")
    RecordHead.objects.update_or_create(record_type="reception.person", record_id=person.pk,
                                        defaults={"change": current.id})
    incoming = Change.objects.create(
        id=uuid7(), node="QAM", seq=next(_seq), record_type="reception.person",
        record_id=person.pk, op=ChangeOp.UPDATE, base=origin.id, fields={"given_lat": there},
        actor="qam_officer", site=site_code, made_at="2026-12-02T10:30:00+00:00",
        received_at=timezone.now(), state=ChangeState.CONFLICT)
    return SyncConflict.objects.create(change=incoming, kind=ConflictKind.VERSION,
                                       current=current.id)


@pytest.fixture
def nodes(sites):
    Node.objects.create(code="HQ", role=NodeRole.HQ, site=sites["HQ"], public_key="00" * 32,
                        is_self=True, installation=INSTALLATION)
    Node.objects.create(code="QAM", role=NodeRole.POST, site=sites["RHM"], public_key="11" * 32,
                        installation=INSTALLATION)


@pytest.fixture
def conflicts(nodes, sites, users):
    officer = users[Role.RECEPTION_OFFICER]
    return {"RHM": _conflict(_person(officer, sites["RHM"], "Muhammad"), "RHM"),
            "ZZZ": _conflict(_person(users["outsider"], sites["ZZZ"], "Muhammad"), "ZZZ",
                             here="Ahmad", there="Ahmed")}


@pytest.fixture
def manager(users):
    return users[Role.CAMP_MANAGER]  # works at RHM and NUR


def test_signed_out_is_sent_to_sign_in(client, conflicts):
    response = client.get("/sync/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get(f"/sync/conflicts/{conflicts['RHM'].pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.RECEPTION_OFFICER, Role.CUSTODY_OFFICER,
                                  Role.CAMP_STAFF, Role.INVESTIGATOR, Role.AUDITOR])
def test_roles_without_the_right_are_refused(client_for, users, conflicts, role):
    client = client_for(users[role])
    assert client.get("/sync/").status_code == 403
    assert client.get(f"/sync/conflicts/{conflicts['RHM'].pk}/").status_code == 403
    response = client.post(f"/sync/conflicts/{conflicts['RHM'].pk}/", {"choice": "incoming"})
    assert response.status_code == 403
    assert SyncConflict.objects.get(pk=conflicts["RHM"].pk).decided_at is None


def test_the_menu_shows_the_page_to_managers_only(client_for, users, manager, nodes):
    assert 'href="/sync/"' in client_for(manager).get("/").content.decode()
    officer = users[Role.RECEPTION_OFFICER]
    assert 'href="/sync/"' not in client_for(officer).get("/").content.decode()


def test_a_manager_sees_peers_and_the_conflicts_of_their_sites_only(client_for, manager,
                                                                    conflicts):
    page = client_for(manager).get("/sync/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "QAM" in html  # the peer
    assert f"/sync/conflicts/{conflicts['RHM'].pk}/" in html
    assert f"/sync/conflicts/{conflicts['ZZZ'].pk}/" not in html


def test_an_administrator_of_every_site_sees_every_conflict(client_for, users, conflicts):
    html = client_for(users[Role.ADMINISTRATOR]).get("/sync/").content.decode()
    assert f"/sync/conflicts/{conflicts['RHM'].pk}/" in html
    assert f"/sync/conflicts/{conflicts['ZZZ'].pk}/" in html


def test_a_conflict_of_another_site_answers_like_an_unknown_one(client_for, manager, conflicts):
    client = client_for(manager)
    other = conflicts["ZZZ"]
    assert client.get(f"/sync/conflicts/{other.pk}/").status_code == 404
    assert client.get(f"/sync/conflicts/{uuid7()}/").status_code == 404
    response = client.post(f"/sync/conflicts/{other.pk}/", {"choice": "incoming"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.decided_at is None and other.decision == ""


@pytest.mark.parametrize("language,direction,heading", [
    ("ar", "rtl", "تعارض يجب البت فيه"), ("en", "ltr", "A conflict to decide")])
def test_the_two_versions_side_by_side_in_the_readers_language(client_for, manager, conflicts,
                                                               language, direction, heading):
    client = client_for(manager)
    client.cookies["django_language"] = language
    page = client.get(f"/sync/conflicts/{conflicts['RHM'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'dir="{direction}"' in html
    assert heading in html
    assert "Muhammad" in html and "Mohamed" in html  # here / arrived
    assert "QAM" in html and "qam_officer" in html  # the origin, who
    from django.utils import translation
    from django.utils.text import capfirst

    from mawa.reception.models import Person

    with translation.override(language):  # the field's name in the reader's language
        label = capfirst(str(Person._meta.get_field("given_lat").verbose_name))
    assert label in html and "given_lat" not in html
    assert 'data-testid="keep-current"' in html and 'data-testid="take-incoming"' in html


def test_pressing_decide_twice_decides_once(client_for, manager, conflicts, monkeypatch):
    calls = []
    decide = sync_services.conflict_decide

    def counted(**kw):
        calls.append(kw["choice"])
        return decide(**kw)

    monkeypatch.setattr(sync_services, "conflict_decide", counted)
    client = client_for(manager)
    url = f"/sync/conflicts/{conflicts['RHM'].pk}/"
    first = client.post(url, {"choice": "current"})
    again = client.post(url, {"choice": "incoming"})
    assert first.status_code == again.status_code == 302
    assert calls == ["current"]
    conflict = SyncConflict.objects.get(pk=conflicts["RHM"].pk)
    assert conflict.decided_at is not None and conflict.decision == "current"
    assert conflict.decided_by == manager.username
    # the decision is a change made here that re-asserts the version kept and settles the
    # conflict on the other side when it travels
    settles = Change.objects.filter(record_id=conflict.change.record_id).order_by("-id").first()
    assert settles.node == "HQ" and settles.actor == manager.username
    assert settles.fields["given_lat"] == "Muhammad"
    assert str(conflict.change_id) in settles.fields["_resolves"]
    assert Change.objects.get(pk=conflict.change_id).state == ChangeState.DECIDED
    page = client.get(url).content.decode()
    assert 'data-testid="decided"' in page and 'data-testid="decision-form"' not in page


def test_a_decision_must_name_a_side(client_for, manager, conflicts):
    client = client_for(manager)
    url = f"/sync/conflicts/{conflicts['RHM'].pk}/"
    assert client.post(url, {"choice": "both"}).status_code == 302
    assert SyncConflict.objects.get(pk=conflicts["RHM"].pk).decided_at is None
