"""The subject access report (protection.md R8): every linked record outside the compartment,
none of the compartment, Perm.PROTECTION_ACT only, site-scoped, audited, PDF as an export."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid

import pytest
import pyzipper
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.core.errors import NotFound
from mawa.core.models import LedgerEntry
from mawa.protection import subject_access

pytestmark = pytest.mark.django_db

ALLEGATION = "Shot the prisoners behind the water tower at Tal Abyad"


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MAWA_EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def key():
    return uuid.uuid4()


@pytest.fixture
def story(sites, users):
    """One person with a record in every area: reception, custody, camp, matching — and an
    allegation, a watch-list hit, a legal hold and a sensitive incident that must stay out."""
    from mawa.accountability import services as acc
    from mawa.camp import services as camp
    from mawa.custody import services as custody
    from mawa.custody.models import Kind, MaterielModel
    from mawa.custody.services import ItemInput
    from mawa.matching.models import MatchPair, Watchlist, WatchlistEntry
    from mawa.reception import idcards
    from mawa.reception import services as reception
    from mawa.reception.models import Status
    from mawa.reception.services import DocumentInput, PersonInput

    officer = users[Role.RECEPTION_OFFICER]
    manager = users[Role.CAMP_MANAGER]
    keeper = users[Role.CUSTODY_OFFICER]
    investigator = users[Role.INVESTIGATOR]
    rhm, nur = sites["RHM"], sites["NUR"]

    def register(given, family, **extra):
        return reception.person_register(
            actor=officer, site=rhm, client_key=key(),
            data=PersonInput(values={"given_lat": given, "family_lat": family, "sex": "male",
                                     "given_ar": "نبيل", "family_ar": "حداد",
                                     "rank": "Sergeant", "unit": "44th Brigade", **extra},
                             birth="1991-04-02", aliases=[("أبو سمير", "Abu Samir")],
                             documents=[DocumentInput(kind="military_id",
                                                      number="MIL-778812")]))[0]

    person = register("Nabil", "Haddad", family_contact_name="Samira Haddad")
    twin = register("Nabeel", "Hadad")
    s: dict = {"person": person, "twin": twin}

    # a correction: the prior family name is kept (R8)
    person = reception.person_update(actor=officer, person=person, version=person.version,
                                     changes={"family_lat": "Haddad-Corrected"})
    idcards.idcards_prepare(user=officer, persons=[person])

    # custody: a weapon surrendered on the person's receipt, then a legal hold on it
    receipt = custody.receipt_open(actor=keeper, site=rhm, client_key=key(), person=person,
                                   witness="Sgt. Witness")
    item = custody.item_surrender(
        actor=keeper, receipt=receipt, client_key=key(),
        data=ItemInput(kind=Kind.WEAPON, catalogue=MaterielModel.objects.get(name="AKM"),
                       serial_number="SA-445566", cleared_by="Cpl. A", verified_by="Lt. B")).item
    custody.legal_hold_set(actor=investigator, item=item, reason="HOLDREASON evidence")
    s.update(receipt=receipt, item=item)

    # camp: housed, out to hospital and back, missing at a roll call, fed, in two incidents
    zone = camp.zone_create(actor=manager, site=nur, name="A")
    block = camp.block_create(actor=manager, zone=zone, name="A1")
    shelter = camp.shelter_create(actor=manager, block=block, name="T9", capacity=4)
    person.refresh_from_db()
    for step in (Status.DISARMED, Status.REGISTERED):
        if person.status == Status.ARRIVED or step == Status.REGISTERED and \
                person.status == Status.DISARMED:
            person = reception.person_transition(actor=officer, person=person, to=step)
    camp.assignment_check_in(actor=manager, person=person, shelter=shelter, client_key=key())
    person.refresh_from_db()
    movement = camp.movement_out(actor=manager, person=person, kind="hospital",
                                 client_key=key(), site=nur, destination="Ward 7",
                                 due_back_at=timezone.now() + dt.timedelta(days=1))
    camp.movement_return(actor=manager, movement=movement)
    rollcall = camp.rollcall_start(actor=manager, block=block, client_key=key())
    camp.rollcall_scan(actor=manager, roll_call=rollcall, code=twin.short_code)
    camp.rollcall_close(actor=manager, roll_call=rollcall)
    meal = camp.item_type_create(actor=manager, site=nur, client_key=key(), data={
        "name_ar": "غداء", "name_en": "Lunch", "unit_cost": "2.50", "max_per_day": 1})
    camp.stock_adjust(actor=manager, item=meal, quantity=10, reason="delivery",
                      client_key=key())
    meal.refresh_from_db()
    person.refresh_from_db()
    camp.distribution_record(actor=manager, item=meal, person=person, client_key=key())
    s["incident"] = camp.incident_report(
        actor=manager, site=nur, client_key=key(), kind="discipline", severity="low",
        occurred_at=timezone.now() - dt.timedelta(hours=2), summary="Quarrel at the tap",
        persons=[person])
    s["sensitive"] = camp.incident_report(
        actor=manager, site=nur, client_key=key(), kind="self_harm", severity="high",
        occurred_at=timezone.now() - dt.timedelta(hours=1), summary="SELFHARM cut wrist",
        persons=[person])

    # matching: the duplicate suggestion exists already (registration); a watch-list hit too
    if not MatchPair.objects.filter(kind="duplicate").exists():
        a, b = sorted([person, twin], key=lambda p: p.pk)
        MatchPair.objects.create(kind="duplicate", person_a=a, person_b=b, probability=0.9)
    wl = Watchlist.objects.create(source="WATCHSRC", version="1", licence="x")
    entry = WatchlistEntry.objects.create(watchlist=wl, entity_id="E1",
                                          name="WATCHNAME Haddad", record={})
    MatchPair.objects.create(kind="watchlist", person_a=person, entry=entry, probability=0.8,
                             reasons=[{"code": "x", "text": "WATCHREASON", "weight": 1}])

    # the compartment: an allegation naming the person as alleged perpetrator
    event = acc.event_create(actor=investigator, site=rhm, client_key=key(),
                             title="ALLEGATIONTITLE water tower", description=ALLEGATION,
                             place="Tal Abyad", date_start=dt.date(2024, 1, 2),
                             date_end=dt.date(2024, 1, 3), date_precision="day")
    act = acc.act_add(actor=investigator, event=event, violation="8.2.a.viii",
                      date=dt.date(2024, 1, 2), description=ALLEGATION)
    acc.involvement_add(actor=investigator, act=act, role="alleged_perpetrator",
                        person=person, degree="direct", note="INVOLVEMENTNOTE")
    person.refresh_from_db()
    s["person"] = person
    return s


def report_for(user, person):
    return subject_access.subject_access_report(user=user, person_id=person.pk)


def section(report, key):
    return next(s for s in report.sections if s.key == key)


def test_it_finds_a_record_in_every_area(story, users):
    report = report_for(users[Role.PROTECTION_OFFICER], story["person"])
    fields = {str(label): value for label, value in report.fields}
    assert fields["family name (Latin)"] == "Haddad-Corrected"
    assert fields["family contact: name"] == "Samira Haddad"
    expected = {"aliases": "Abu Samir", "documents": "MIL-778812", "lifecycle": "",
                "revisions": "Haddad", "ledger": "Registered", "idcards": "Reception_Officer",
                "icrc": "", "receipts": story["receipt"].short_code,
                "items": "SA-445566", "assignments": "T9", "movements": "Ward 7",
                "rollcalls": "", "distributions": "Lunch",
                "incidents": "Quarrel at the tap", "matches": story["twin"].short_code}
    for key_, needle in expected.items():
        rows = section(report, key_).rows
        assert rows, f"nothing in {key_}"
        assert needle in " ".join(" ".join(r) for r in rows), key_


def test_a_correction_keeps_the_prior_version_and_the_report_shows_it(story, users):
    from mawa.reception.models import PersonRevision

    revision = PersonRevision.objects.get(person=story["person"])
    assert revision.prior == {"family_lat": "Haddad"}
    assert revision.version == 1 and story["person"].version > 1
    rows = section(report_for(users[Role.PROTECTION_OFFICER], story["person"]),
                   "revisions").rows
    assert rows == [["1", rows[0][1], users[Role.RECEPTION_OFFICER].get_full_name(),
                     "family name (Latin): Haddad"]]


def test_nothing_of_the_compartment_appears(story, users, client_for):
    report = report_for(users[Role.PROTECTION_OFFICER], story["person"])
    client = client_for(users[Role.PROTECTION_OFFICER])
    client.cookies["django_language"] = "en"
    page = client.get(f"/subject-access/{story['person'].pk}/").content.decode()
    assert "Haddad-Corrected" in page
    for text in (report.text, page):
        for secret in ("ALLEGATIONTITLE", ALLEGATION, "Tal Abyad", "INVOLVEMENTNOTE",
                       "perpetrator", "WATCHSRC", "WATCHNAME", "WATCHREASON", "HOLDREASON",
                       "legal hold", "Watch-list"):
            assert secret not in text, secret
    assert all(row[0] != "" for row in section(report, "matches").rows)
    assert len(section(report, "matches").rows) == 1  # the duplicate, not the hit


def test_sensitive_incidents_only_with_the_sensitive_permission(story, users, make_user,
                                                                sites, monkeypatch):
    text = report_for(users[Role.PROTECTION_OFFICER], story["person"]).text
    assert "SELFHARM" in text
    # a protection officer whose role lacks the sensitive-incident permission: no trace
    from mawa.accounts import roles

    perms = dict(roles.ROLE_PERMISSIONS)
    perms[Role.PROTECTION_OFFICER] = perms[Role.PROTECTION_OFFICER] - {
        roles.Perm.INCIDENT_SENSITIVE_VIEW}
    monkeypatch.setattr("mawa.accounts.access.ROLE_PERMISSIONS", perms)
    report = report_for(users[Role.PROTECTION_OFFICER], story["person"])
    assert "SELFHARM" not in report.text and "Self-harm" not in report.text
    assert len(section(report, "incidents").rows) == 1


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PROTECTION_OFFICER])
def test_other_roles_get_404_like_a_missing_person(story, users, client_for, role):
    with pytest.raises(NotFound):
        report_for(users[role], story["person"])
    client = client_for(users[role])
    assert client.get(f"/subject-access/{story['person'].pk}/").status_code == 404
    assert client.get(f"/subject-access/{story['person'].pk}/pdf/").status_code == 404


def test_another_sites_protection_officer_gets_404(story, make_user, sites, client_for):
    other = make_user("zz_protection", Role.PROTECTION_OFFICER, [sites["ZZZ"]])
    client = client_for(other)
    assert client.get(f"/subject-access/{story['person'].pk}/").status_code == 404
    assert client.get(f"/subject-access/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/subject-access/{story['person'].pk}/pdf/").status_code == 404


def test_the_page_is_one_audit_entry_without_values(story, users, client_for):
    client = client_for(users[Role.PROTECTION_OFFICER])
    before = LedgerEntry.objects.filter(stream="audit").count()
    response = client.get(f"/subject-access/{story['person'].pk}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    entries = list(LedgerEntry.objects.filter(stream="audit").order_by("seq")[before:])
    assert [e.kind for e in entries] == ["audit.subject_access"]
    assert str(story["person"].pk) in entries[0].payload
    assert "Haddad" not in entries[0].payload and "Nabil" not in entries[0].payload


def test_the_pdf_is_an_encrypted_export_on_the_ledger(story, users, client_for):
    client = client_for(users[Role.PROTECTION_OFFICER])
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    url = f"/subject-access/{story['person'].pk}/pdf/"
    assert client.post(url, {"purpose": "", "recipient": ""}).status_code == 400
    before = LedgerEntry.objects.filter(stream="audit").count()
    response = client.post(url, {"purpose": "request of the person",
                                 "recipient": "the person in person"})
    assert response.status_code == 200
    ready = response.context["ready"]
    entries = list(LedgerEntry.objects.filter(stream="audit").order_by("seq")[before:])
    assert [e.kind for e in entries] == ["audit.export"]
    assert '"export":"subject_access_pdf"' in entries[0].payload
    assert "Haddad" not in entries[0].payload
    data = b"".join(client.get(f"/exports/{ready.token}/").streaming_content)
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        with pytest.raises(RuntimeError):
            archive.read(archive.namelist()[0])
        archive.setpassword(ready.passphrase.encode())
        pdf = archive.read(archive.namelist()[0])
    assert pdf.startswith(b"%PDF")


def test_the_pdf_needs_step_up(story, users, client_for):
    client = client_for(users[Role.PROTECTION_OFFICER])
    response = client.get(f"/subject-access/{story['person'].pk}/pdf/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/confirm/")


def test_the_person_page_links_the_report_for_protection_officers_only(story, users,
                                                                        client_for):
    url = f"/reception/persons/{story['person'].pk}/"
    link = f"/subject-access/{story['person'].pk}/".encode()
    assert link in client_for(users[Role.PROTECTION_OFFICER]).get(url).content
    assert link not in client_for(users[Role.RECEPTION_OFFICER]).get(url).content
