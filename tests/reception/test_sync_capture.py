"""Field operations, reception's part: every write a post and headquarters both need captures
its changes (``core.changes``) in its transaction, and replaying those changes through the
appliers (``reception.sync``) writes the very same records — ids, short codes, values,
status, history — as the origin did."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.core.changes import UniqueBroken, change_applier, change_applying
from mawa.core.changes_models import Change, ChangeOp, RecordHead
from mawa.core.errors import Conflict
from mawa.reception import icrc, services
from mawa.reception.models import (
    ArrivalGroup,
    Category,
    IdentityDocument,
    LifecycleEvent,
    Person,
    PersonAlias,
    PersonNameKey,
    PersonRevision,
    Status,
)
from mawa.reception.services import DocumentInput, PersonInput

pytestmark = pytest.mark.django_db

PERSON, GROUP = services.PERSON_RECORD, services.GROUP_RECORD


def _changes(**kw) -> list[Change]:
    return list(Change.objects.filter(**kw).order_by("seq"))


def _new_changes(since: int) -> list[Change]:
    return list(Change.objects.filter(seq__gt=since).order_by("seq"))


def _last_seq() -> int:
    last = Change.objects.order_by("-seq").first()
    return last.seq if last else 0


def _photo() -> SimpleUploadedFile:
    png = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 90, 10)).save(png, format="PNG")
    return SimpleUploadedFile("p.png", png.getvalue())


def _full_registration(officer, site, group, **values):
    base = {"given_ar": "محمد", "given_lat": "Mohammed", "father_ar": "أحمد",
            "family_ar": "الحلبي", "family_lat": "al-Halabi", "sex": "male",
            "service_number": "A-12345", "family_contact_name": "Umm Ahmad",
            "languages": "ar en", "vulnerabilities": ["wounded"]}
    base.update(values)
    return services.person_register(
        actor=officer, site=site, client_key=uuid.uuid4(), group=group,
        data=PersonInput(values=base, birth="1990-03-15",
                         aliases=[("أبو عمر", "Abu Omar")],
                         documents=[DocumentInput("passport", "N 123-456", "SY",
                                                  dt.date(2030, 1, 1))],
                         photo=_photo()))


# --- what each service captures --------------------------------------------------------------

class TestCapture:
    def test_a_group_is_captured_at_creation_and_correction(self, sites, officer):
        before = _last_seq()
        key = uuid.uuid4()
        at = timezone.now() - dt.timedelta(hours=1)
        group = services.arrival_group_create(actor=officer, site=sites["RHM"], client_key=key,
                                              arrived_at=at, reported_count=12,
                                              formation=" 17th ")
        (create,) = _new_changes(before)
        assert (create.record_type, create.record_id, create.op, create.base) == (
            GROUP, group.id, ChangeOp.CREATE, None)
        assert create.fields == {
            "id": str(group.id), "site": "RHM", "short_code": group.short_code,
            "client_key": str(key), "arrived_at": at.isoformat(), "reported_count": 12,
            "facilitated_by": "", "formation": "17th", "notes": ""}
        assert (create.actor, create.site) == (officer.username, "RHM")
        # a retried submission captures nothing
        services.arrival_group_create(actor=officer, site=sites["RHM"], client_key=key,
                                      arrived_at=at, reported_count=12)
        assert _new_changes(create.seq) == []
        services.arrival_group_update(actor=officer, group=group, version=1, reported_count=14)
        (update,) = _new_changes(create.seq)
        assert (update.op, update.base, update.fields) == (ChangeOp.UPDATE, create.id,
                                                           {"reported_count": 14})
        assert RecordHead.objects.get(record_id=group.id).change == update.id
        # nothing changed: nothing captured
        services.arrival_group_update(actor=officer, group=group, version=2, reported_count=14)
        assert _new_changes(update.seq) == []

    def test_a_registration_carries_its_ids_codes_values_and_files(self, sites, officer, group,
                                                                    settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        before = _last_seq()
        person, _ = _full_registration(officer, sites["RHM"], group)
        (create,) = _new_changes(before)
        f = create.fields
        assert (create.record_type, create.record_id, create.op, create.base) == (
            PERSON, person.id, ChangeOp.CREATE, None)
        alias = PersonAlias.objects.get(person=person)
        doc = IdentityDocument.objects.get(person=person)
        event = LifecycleEvent.objects.get(person=person)
        assert f["short_code"] == person.short_code
        assert f["client_key"] == str(person.client_key)
        assert f["content_hash"] == person.content_hash
        assert (f["site"], f["group"], f["status"]) == ("RHM", str(group.id), "arrived")
        assert f["alias_ids"] == [str(alias.id)] and f["aliases"] == [["أبو عمر", "Abu Omar"]]
        assert f["event"] == str(event.id) and f["at"] == event.at.isoformat()
        assert f["values"]["family_contact_name"] == "Umm Ahmad"
        assert f["values"]["birth_year"] == 1990
        (d,) = f["documents"]
        assert (d["id"], d["kind"], d["number"], d["expiry"]) == (
            str(doc.id), "passport", "N 123-456", "2030-01-01")
        assert f["photo"]["name"] == person.photo.name and f["photo"]["data"]
        assert f["single"] is True

    def test_a_batch_registration_is_one_change_per_person_in_one_ledger_batch(
            self, sites, officer, group):
        before = _last_seq()
        people = [_clean(group, n) for n in range(4)]
        persons = services.persons_register(actor=officer, site=sites["RHM"], people=people)
        changes = _new_changes(before)
        assert [c.record_id for c in changes] == [p.id for p in persons]
        assert {c.op for c in changes} == {ChangeOp.CREATE}
        assert [c.seq for c in changes] == list(range(before + 1, before + 5))
        assert all(c.fields["single"] is False and c.fields["photo"] is None for c in changes)

    def test_a_correction_names_the_values_and_chains_on_the_registration(self, register,
                                                                          officer):
        person, _ = register()
        (create,) = _changes(record_id=person.id)
        services.person_update(actor=officer, person=person, version=1,
                               changes={"given_lat": "Muhammad", "birth": "1991"})
        create, update = _changes(record_id=person.id)
        revision = PersonRevision.objects.get(person=person)
        assert (update.op, update.base) == (ChangeOp.UPDATE, create.id)
        assert update.fields == {"given_lat": "Muhammad", "birth": "1991",
                                 "_revision": str(revision.id)}

    def test_moves_categorisation_and_separation_are_actions(self, register, officer, users):
        person, _ = register(category=Category.CIVILIAN)
        services.person_transition(actor=officer, person=person, to=Status.DISARMED,
                                   note=" searched ")
        services.person_categorise(actor=users[Role.PROTECTION_OFFICER], person=person,
                                   category=Category.CHILD, reason="Age assessment")
        person.refresh_from_db()
        services.person_separate(actor=officer, person=person, category=Category.CIVILIAN,
                                 referral_to="UNHCR")
        create, move, categorise, separate = _changes(record_id=person.id)
        events = list(LifecycleEvent.objects.filter(person=person).order_by("at", "id"))
        revisions = list(PersonRevision.objects.filter(person=person).order_by("version"))
        assert [c.base for c in (move, categorise, separate)] == [create.id, move.id,
                                                                   categorise.id]
        assert move.fields == {"action": "transition", "from": "arrived", "to": "disarmed",
                               "details": {}, "note": "searched",
                               "at": events[1].at.isoformat(), "event": str(events[1].id)}
        assert categorise.fields == {"action": "categorise", "category": "child",
                                     "reason": "Age assessment",
                                     "_revision": str(revisions[0].id)}
        # one action for the category change and the move out (the move is not captured twice)
        assert separate.fields == {"action": "separate", "category": "civilian",
                                   "referral_to": "UNHCR", "note": "",
                                   "at": events[2].at.isoformat(), "event": str(events[2].id),
                                   "_revision": str(revisions[1].id)}
        assert separate.actor == officer.username

    def test_a_batch_move_is_one_change_per_person(self, sites, officer, group):
        persons = services.persons_register(actor=officer, site=sites["RHM"],
                                            people=[_clean(group, n) for n in range(3)])
        before = _last_seq()
        services.persons_transition(actor=officer, persons=persons, to=Status.DISARMED)
        changes = _new_changes(before)
        assert [c.record_id for c in changes] == [p.id for p in persons]
        assert {c.fields["action"] for c in changes} == {"transition"}
        assert len({c.fields["event"] for c in changes}) == 3

    def test_a_merge_is_one_action_of_the_duplicate(self, register, officer, users):
        survivor, _ = register()
        duplicate, _ = register(given_lat="Muhamad")
        before = _last_seq()
        with transaction.atomic():
            services.person_merge(actor=officer, duplicate=duplicate,
                                  survivor=survivor, site=survivor.site, pair=None)
        (merge,) = _new_changes(before)
        event = LifecycleEvent.objects.get(person=duplicate, to_status=Status.MERGED)
        assert (merge.record_id, merge.op) == (duplicate.id, ChangeOp.ACTION)
        assert merge.fields == {"action": "merge", "survivor": str(survivor.id), "pair": None,
                                "at": event.at.isoformat(), "event": str(event.id)}

    def test_a_merge_at_the_command_line_is_captured_without_a_user(self, register):
        survivor, _ = register()
        duplicate, _ = register(given_lat="Muhamad")
        before = _last_seq()
        with transaction.atomic():
            services.person_merge(actor=None, duplicate=duplicate, survivor=survivor,
                                  site=survivor.site)
        (merge,) = _new_changes(before)
        assert (merge.actor, merge.fields["at"], merge.fields["event"]) == ("", None, None)

    def test_withholding_from_the_icrc_is_captured(self, register, users):
        person, _ = register()
        icrc.person_icrc_withhold(actor=users[Role.PROTECTION_OFFICER], person=person,
                                  withheld=True, reason="Fears for his family")
        create, withhold = _changes(record_id=person.id)
        assert (withhold.base, withhold.fields) == (create.id, {
            "action": "icrc_withhold", "withheld": True, "reason": "Fears for his family"})


def _clean(group, n: int) -> services.CleanPerson:
    values, aliases, documents, hashes = services.person_input_clean(
        PersonInput(values={"given_ar": "سالم", "family_lat": "Batch" + "".join(
            chr(97 + int(d)) for d in str(n))}, birth="1985"),
        arrived_at=group.arrived_at)
    return services.CleanPerson(
        client_key=uuid.uuid4(), values=values, aliases=aliases, documents=documents,
        content_hash=services.person_content_hash(values, aliases, documents, hashes,
                                                  group.id, group.site),
        arrived_at=group.arrived_at, group=group)


# --- the round trip: captured here, undone, replayed -----------------------------------------

class _Undo(Exception):
    pass


def _snapshot() -> dict:
    def rows(model, skip=()):
        drop = {"created_at", "updated_at", *skip}
        return sorted(({f.attname: getattr(o, f.attname) for f in model._meta.concrete_fields
                        if f.attname not in drop} for o in model.objects.all()),
                      key=lambda r: str(r.get("id")))

    return {
        "groups": rows(ArrivalGroup),
        "persons": rows(Person),
        "aliases": rows(PersonAlias),
        "documents": rows(IdentityDocument),
        # the history's link to this node's ledger is its own
        "events": rows(LifecycleEvent, skip={"ledger_seq"}),
        "revisions": rows(PersonRevision, skip={"at"}),
        "name_keys": sorted(PersonNameKey.objects.values_list("person_id", "part", "key")),
    }


def _made_then_undone(work) -> tuple[list[Change], dict]:
    """Run ``work`` in a transaction that is rolled back; return the changes it captured
    (kept in memory) and the records as they were before the rollback."""
    before = _last_seq()
    kept: dict = {}
    with pytest.raises(_Undo), transaction.atomic():
        work()
        kept["changes"] = _new_changes(before)
        kept["records"] = _snapshot()
        raise _Undo
    return kept["changes"], kept["records"]


def _apply(change: Change) -> None:
    actor = User.objects.filter(username=change.actor).first() if change.actor else None
    applier = change_applier(change)
    assert applier is not None, (change.record_type, change.op, change.fields.get("action"))
    with transaction.atomic(), change_applying(change):
        applier(change, actor)


def test_a_day_at_the_crossing_replays_to_the_same_records(sites, officer, users, settings,
                                                          tmp_path):
    settings.MEDIA_ROOT = tmp_path
    protection = users[Role.PROTECTION_OFFICER]

    def day():
        group = services.arrival_group_create(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
            arrived_at=timezone.now() - dt.timedelta(hours=3), reported_count=5,
            facilitated_by="Governor", notes="at dawn")
        services.arrival_group_update(actor=officer, group=group, version=1, reported_count=6)
        soldier, _ = _full_registration(officer, sites["RHM"], group)
        batch = services.persons_register(actor=officer, site=sites["RHM"],
                                          people=[_clean(group, n) for n in range(3)],
                                          at=group.arrived_at)
        services.person_update(actor=officer, person=soldier, version=1,
                               changes={"unit": "3rd battalion", "birth": "1990-04",
                                        "family_contact_phone": "٠٩٩١"})
        soldier.refresh_from_db()
        services.person_transition(actor=officer, person=soldier, to=Status.DISARMED)
        services.person_transition(actor=officer, person=soldier, to=Status.REGISTERED)
        services.person_transition(actor=officer, person=soldier, to=Status.INTERNED,
                                   details={"camp": "NUR"}, note="bus 2")
        services.persons_transition(actor=officer, persons=batch, to=Status.DISARMED)
        fresh = list(Person.objects.filter(id__in=[p.id for p in batch])
                     .select_related("current_site").order_by("id"))
        services.person_categorise(actor=protection, person=fresh[0],
                                   category=Category.CIVILIAN, reason="Farmer, papers")
        services.person_separate(actor=officer, person=fresh[1], category=Category.CHILD,
                                 referral_to="UNICEF")
        services.person_merge(actor=officer, duplicate=fresh[2],
                              survivor=soldier, site=sites["RHM"], pair=None)
        soldier.refresh_from_db()
        icrc.person_icrc_withhold(actor=protection, person=soldier, withheld=True,
                                  reason="Asked not to be notified")

    changes, origin = _made_then_undone(day)
    assert Person.objects.count() == 0 and ArrivalGroup.objects.count() == 0
    assert len(changes) == 2 + 4 + 1 + 3 + 3 + 1 + 1 + 1 + 1
    for change in changes:
        _apply(change)
    assert _snapshot() == origin
    assert origin["persons"][0]["photo"]  # the photo travelled and was stored again
    # each record's head is its last change; nothing new was minted by the replay
    assert Change.objects.count() == 0
    last = {}
    for c in changes:
        last[c.record_id] = c.id
    assert dict(RecordHead.objects.values_list("record_id", "change")) == last


def test_reapplying_a_creation_is_refused_not_doubled(sites, officer, group):
    changes, _records = _made_then_undone(
        lambda: services.persons_register(actor=officer, site=sites["RHM"],
                                          people=[_clean(group, 1)]))
    _apply(changes[0])
    with pytest.raises(Conflict) as exc:
        _apply(changes[0])
    assert exc.value.code == "already_applied"
    assert Person.objects.filter(id=changes[0].record_id).count() == 1

    group_changes, _records = _made_then_undone(
        lambda: services.arrival_group_create(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
            arrived_at=timezone.now(), reported_count=1))
    _apply(group_changes[0])
    with pytest.raises(Conflict):
        _apply(group_changes[0])
    assert ArrivalGroup.objects.filter(id=group_changes[0].record_id).count() == 1


def test_a_document_number_held_here_is_a_review_item(sites, officer, group, register):
    def passport(number):
        return services.person_register(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
            data=PersonInput(values={"given_ar": "علي"},
                             documents=[DocumentInput("passport", number)]))

    passport("x-777")  # registered here, typed otherwise
    changes, _records = _made_then_undone(lambda: passport("X 777"))
    with pytest.raises(UniqueBroken):
        _apply(changes[0])
    assert not Person.objects.filter(id=changes[0].record_id).exists()
    # a person decided to apply it all the same
    changes[0].fields = {**changes[0].fields, "_resolves": ["x"]}
    _apply(changes[0])
    assert Person.objects.filter(id=changes[0].record_id).exists()


def test_the_same_man_registered_elsewhere_is_queued_for_review_not_refused(
        sites, officer, group, register):
    from mawa.matching.models import MatchPair

    here, _ = register(service_number="B-7")
    changes, _records = _made_then_undone(lambda: register(service_number="B-7"))
    _apply(changes[0])
    there = Person.objects.get(id=changes[0].record_id)
    assert there.id != here.id
    assert MatchPair.objects.filter(person_a__in=[here, there],
                                    person_b__in=[here, there]).exists()


def test_a_code_taken_here_is_a_review_item(sites, officer, group):
    changes, _records = _made_then_undone(
        lambda: services.persons_register(actor=officer, site=sites["RHM"],
                                          people=[_clean(group, 1)]))
    # registered here at the same site meanwhile: the same next code
    services.persons_register(actor=officer, site=sites["RHM"], people=[_clean(group, 2)])
    with pytest.raises(UniqueBroken):
        _apply(changes[0])


def test_a_move_on_a_record_in_another_state_is_refused(register, officer):
    person, _ = register()
    changes, _records = _made_then_undone(
        lambda: services.person_transition(actor=officer, person=person, to=Status.DISARMED))
    services.person_transition(actor=officer, person=person, to=Status.DISARMED)
    with pytest.raises(Conflict):
        _apply(changes[0])


def test_capture_adds_a_fixed_number_of_statements_to_a_batch(sites, officer, group):
    services.persons_register(actor=officer, site=sites["RHM"], people=[_clean(group, 0)])

    def count(n: int) -> int:
        people = [_clean(group, i) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            services.persons_register(actor=officer, site=sites["RHM"], people=people)
        return len(ctx.captured_queries)

    assert count(2) == count(30)
    assert Change.objects.filter(record_type=PERSON).count() == 1 + 2 + 30
