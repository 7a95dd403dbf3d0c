"""The attack suite's cast and world.

``local``: one user of every role working at RHM and NUR only (headquarters roles too: no
``all_sites``), so that every record made elsewhere is another site's record for all of them.

``world``: one record of every kind reachable by an id in a URL, made at the other crossing
ZZZ, the other camp ZZC and the other depot ZZD, plus compartment records made at RHM (a site
the local users do work at: only the compartment barrier stands between them and those) and at
ZZZ (so that the RHM/NUR investigator meets the site barrier inside the compartment too).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role


@pytest.fixture
def local(sites, make_user):
    """One user per role at RHM and NUR only."""
    return {role: make_user(f"local_{role.value}", role, [sites["RHM"], sites["NUR"]])
            for role in Role}


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def world(sites, users, make_user, settings, tmp_path):
    """Records of every kind at other sites, and compartment records; returns a dict of
    ``kind → record`` (see the module docstring)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mawa.accountability import services as acc
    from mawa.camp import services as camp
    from mawa.core.models import Site, SiteKind
    from mawa.custody import services as custody
    from mawa.custody.models import Discrepancy, Kind, MaterielModel
    from mawa.custody.services import ItemInput
    from mawa.matching.models import MatchPair
    from mawa.reception import services as reception
    from mawa.reception.services import PersonInput
    from mawa.reports.models import StoredReport

    settings.MAWA_EVIDENCE_DIR = tmp_path / "evidence"
    zzz = sites["ZZZ"]
    zzc = Site.objects.create(code="ZZC", kind=SiteKind.CAMP, name_ar="مخيم آخر",
                              name_en="Other camp", latitude="31.000000", longitude="37.000000")
    zzd = Site.objects.create(code="ZZD", kind=SiteKind.DEPOT, name_ar="مستودع آخر",
                              name_en="Other depot")
    reg = users["outsider"]
    keeper = make_user("zz_custody", Role.CUSTODY_OFFICER, [zzz, zzd])
    manager = make_user("zz_campmanager", Role.CAMP_MANAGER, [zzz, zzc])
    investigator = users[Role.INVESTIGATOR]  # every site
    w: dict = {"ZZZ": zzz, "ZZC": zzc, "ZZD": zzd}

    w["group"] = reception.arrival_group_create(
        actor=reg, site=zzz, client_key=uuid.uuid4(),
        arrived_at=timezone.now() - dt.timedelta(hours=3), reported_count=4,
        formation="9th Brigade")
    people = []
    for given, family in (("Faris", "Qasim"), ("Fares", "Kassem"), ("Nabil", "Tawil"),
                          ("Adel", "Hamdan")):
        person, _ = reception.person_register(
            actor=reg, site=zzz, client_key=uuid.uuid4(),
            data=PersonInput(values={"given_lat": given, "family_lat": family, "sex": "male"},
                             birth="1985"), group=w["group"])
        people.append(person)
    w["person"] = people[0]
    # registration already suggests Faris Qasim / Fares Kassem as a duplicate pair
    w["pair"] = MatchPair.objects.filter(person_a__site=zzz).first() or MatchPair.objects.create(
        kind="duplicate", person_a=min(people[:2], key=lambda p: p.pk),
        person_b=max(people[:2], key=lambda p: p.pk), probability=0.93)

    # custody at ZZZ / ZZD
    w["store"] = custody.store_create(actor=keeper, site=zzd, name="Other armoury")
    w["receipt"] = custody.receipt_open(actor=keeper, site=zzz, client_key=uuid.uuid4(),
                                        person=people[0], witness="Sgt. Z")
    w["item"] = custody.item_surrender(
        actor=keeper, receipt=w["receipt"], client_key=uuid.uuid4(),
        data=ItemInput(kind=Kind.WEAPON, catalogue=MaterielModel.objects.get(name="AKM"),
                       serial_number="ZZ-000123", cleared_by="Cpl. Z", verified_by="Lt. Z")).item
    w["photo"] = custody.item_photo_add(
        actor=keeper, item=w["item"], subject="item",
        upload=SimpleUploadedFile("p.png", _png(), content_type="image/png"))
    w["hold"] = custody.legal_hold_set(actor=investigator, item=w["item"], reason="evidence")
    gate_store = custody.store_create(actor=keeper, site=zzz, name="Gate")
    w["check"] = custody.stock_check_start(actor=keeper, store=gate_store, scope="full",
                                           client_key=uuid.uuid4())
    from mawa.core.services import short_code_next

    w["discrepancy"] = Discrepancy.objects.create(
        site=zzz, short_code=short_code_next(site=zzz), check_run=w["check"],
        item=w["item"], description="one missing")

    from mawa.custody.models import HandoverBatch

    # a handover record of ZZD, straight in the table (the return itself is custody's test)
    w["handover"] = HandoverBatch.objects.create(
        site=zzd, short_code=short_code_next(site=zzd), client_key=uuid.uuid4(),
        recipient="Country of origin", document="Agreement 1", handed_over_at=timezone.now(),
        handed_over_by=keeper, ledger_seq=1)

    # camp at ZZC (persons straight in the register: housing is what is tested here)
    zone = camp.zone_create(actor=manager, site=zzc, name="Z")
    w["block"] = camp.block_create(actor=manager, zone=zone, name="Z1")
    w["shelter"] = camp.shelter_create(actor=manager, block=w["block"], name="T1", capacity=4)
    from mawa.reception.models import Person

    now = timezone.now()
    interned = [Person.objects.create(
        site=zzz, short_code=short_code_next(site=zzz), client_key=uuid.uuid4(),
        content_hash="x", current_site=zzc, arrived_at=now - dt.timedelta(days=3),
        given_lat=f"Internee{i}", status="interned", status_changed_at=now,
        registered_by=reg) for i in range(2)]
    for p in interned:
        camp.assignment_check_in(actor=manager, person=p, shelter=w["shelter"],
                                 client_key=uuid.uuid4())
    w["rollcall"] = camp.rollcall_start(actor=manager, block=w["block"],
                                        client_key=uuid.uuid4())
    w["movement"] = camp.movement_out(
        actor=manager, person=interned[0], kind="hospital", client_key=uuid.uuid4(), site=zzc,
        due_back_at=timezone.now() + dt.timedelta(days=2), destination="Hospital")
    w["camp_item"] = camp.item_type_create(actor=manager, site=zzc, client_key=uuid.uuid4(),
                                           data={"name_ar": "خبز", "name_en": "Bread",
                                                 "kind": "meal", "max_per_day": 1})
    w["incident"] = camp.incident_report(
        actor=manager, site=zzc, client_key=uuid.uuid4(), kind="discipline", severity="low",
        occurred_at=timezone.now() - dt.timedelta(hours=1), summary="Scuffle at the tap")

    # a stored report of the other camp
    w["report"] = StoredReport.objects.create(day=dt.date(2026, 1, 5), site=zzc, language="en",
                                              file_name="sitrep.pdf", sha256="0" * 64,
                                              created_by="system")
    # an import upload left by the ZZZ officer
    from mawa.reception import views_import

    token = uuid.uuid4().hex
    (views_import._dir() / f"{token}.bin").write_bytes(b"given_lat\nX\n")
    (views_import._dir() / f"{token}.json").write_text(json.dumps({"user": str(reg.pk),
                                                                   "name": "x.csv"}))
    w["import"] = token
    # an account of ZZZ, and a grant request for it (accounts.views_users)
    from mawa.accounts.models import GrantRequest

    w["user"] = users["outsider"]
    w["grant"] = GrantRequest.objects.create(
        target=users["outsider"], requested_by=users[Role.ADMINISTRATOR],
        role=Role.RECEPTION_OFFICER, step_up_at=timezone.now())
    w["grant"].sites.set([sites["ZZZ"]])
    # an API token of the ZZZ officer (accounts.views_tokens)
    from mawa.accounts.services import api_token_create

    w["api_token"], _secret = api_token_create(
        user=users["outsider"], name="ration system", sites=[sites["ZZZ"]],
        expires_at=timezone.now() + dt.timedelta(days=30))
    # a background job of the ZZZ officer (core.jobs: the owner's alone)
    from mawa.core.jobs import job_start

    w["job"] = job_start(user=users["outsider"], kind="idcards", site=sites["ZZZ"],
                         params={"group": str(w["group"].pk), "format": "card",
                                 "selection": "all", "persons": []}, subject="ZZZ cards")
    # a sync conflict over a change made at ZZZ (mawa.sync: the sync page, site-scoped)
    from mawa.core.changes_models import Change, ChangeState, ConflictKind, SyncConflict
    from mawa.core.ids import uuid7

    incoming = Change.objects.create(
        id=uuid7(), node="ZZZ", seq=1, record_type="reception.person",
        record_id=w["person"].pk, op="update", base=uuid7(), fields={"given_lat": "X"},
        actor="outsider", site="ZZZ", made_at="2026-12-01T08:00:00+00:00",
        state=ChangeState.CONFLICT)
    w["sync_conflict"] = SyncConflict.objects.create(change=incoming, kind=ConflictKind.VERSION)

    # the compartment, at RHM (a site of the local cast) and at ZZZ
    def compartment(site, tag):
        event = acc.event_create(actor=investigator, site=site, client_key=uuid.uuid4(),
                                 title=f"Allegation {tag}", description="secret",
                                 place="X", date_start=dt.date(2024, 1, 2),
                                 date_end=dt.date(2024, 1, 3), date_precision="day")
        evidence = acc.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                    name="statement.txt", data=b"I saw it.\n",
                                    description="statement", captured_at=timezone.now(),
                                    original_location="safe")
        referral = acc.referral_create(actor=investigator, event=event,
                                       client_key=uuid.uuid4(),
                                       recipient_kind="national_prosecutor",
                                       recipient_name="Prosecutor", purpose="trial",
                                       evidence=[evidence])
        return {"event": event, "evidence": evidence, "referral": referral}

    w["compartment"] = compartment(sites["RHM"], "RHM")
    w["compartment_zzz"] = compartment(zzz, "ZZZ")
    return w


def stream_of(response) -> bytes:
    """The body of a response, streamed or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def as_file(data: bytes, name: str):
    buf = io.BytesIO(data)
    buf.name = name
    return buf
