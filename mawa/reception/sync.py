"""Replaying the reception's changes made at another node (field operations, ``core.changes``).

``services`` captures one change per record and user action, inside the write's transaction:

``reception.group``
    ``create`` (``arrival_group_create``: the group's id, site, short code, client key, arrival
    time, head-count and text) and ``update`` (``arrival_group_update``: the new values).
``reception.person``
    ``create`` (the registration writer ``_persons_write``, so ``person_register``,
    ``persons_register``, the import and the demo: ids of the person, its aliases, documents and
    first lifecycle event, its short code, client key, content hash, group, arrival time,
    status and time, the cleaned values, and its photo and scans as base64 — they were checked
    and re-encoded when stored, at most ``PHOTO_MAX_BYTES`` and ``SCAN_MAX_BYTES``), ``update``
    (``person_update``: the corrected values, a changed date of birth as its text, and
    ``_revision``, the id of the history row) and the actions ``transition`` (each person moved
    by ``persons_transition`` / ``person_transition``: from, to, what the move recorded, note,
    time, history row), ``categorise`` (``person_categorise``: category, reason, ``_revision``),
    ``separate`` (``person_separate``: one action for the category change and the move out),
    ``merge`` (``person_merge``: the survivor, the review decision's id, the move's time and
    history row) and ``icrc_withhold`` (``icrc.person_icrc_withhold``: the flag and its
    reason). Keys starting with ``_`` are bookkeeping, not values of the record.

Each applier below replays its change through the same service, as the change's actor, with
the origin's ids, codes and times, so the records here are the origin's (the services take
those ids as parameters; nothing is written beside them). Times are passed explicitly (``at``,
``arrived_at``), not through ``core.clock.clock_set``, which is process-wide and may not be
used in a request (a push over HTTPS applies in one).

The engine applies a change only on the version it was made on, so an update is replayed on
the record's current ``version`` here. A create whose record is already here is refused with
a clear message (the engine's idempotency on change ids comes first). A document number
already held here by another person is ``UniqueBroken``: a review item, not a refusal (the
check is skipped when a person decided to apply the change all the same: a change carrying
``_resolves`` or in state ``decided``). The same person registered at two posts without a
shared document is two records: the registration's duplicate check (``person.registered``,
``single``) queues the pair for the matching review.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from mawa.core.changes import UniqueBroken, change_applier_register, change_travels_everywhere
from mawa.core.changes_models import Change, ChangeOp, ChangeState
from mawa.core.errors import Conflict, NotFound
from mawa.core.models import Site
from mawa.reception import icrc, services
from mawa.reception.models import ArrivalGroup, IdentityDocument, Person, Status
from mawa.reception.values import document_lookup

__all__ = ["appliers_register"]


def appliers_register() -> None:
    """Register the reception's appliers (``ReceptionConfig.ready``)."""
    person = services.PERSON_RECORD
    change_travels_everywhere(services.GROUP_RECORD)  # the registry goes to every post
    change_travels_everywhere(person)
    change_applier_register(services.GROUP_RECORD, ChangeOp.CREATE, apply_group_create)
    change_applier_register(services.GROUP_RECORD, ChangeOp.UPDATE, apply_group_update)
    change_applier_register(person, ChangeOp.CREATE, apply_person_create)
    change_applier_register(person, ChangeOp.UPDATE, apply_person_update)
    change_applier_register(person, "action:transition", apply_person_transition)
    change_applier_register(person, "action:categorise", apply_person_categorise)
    change_applier_register(person, "action:separate", apply_person_separate)
    change_applier_register(person, "action:merge", apply_person_merge)
    change_applier_register(person, "action:icrc_withhold", apply_person_icrc_withhold)


# --- helpers ------------------------------------------------------------------------------

def _site(code: str) -> Site:
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise NotFound(_("The site %(code)s is not known here.") % {"code": code})
    return site


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _uuid(value) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _already(record_type: str, record_id) -> Conflict:
    return Conflict(_("This record (%(type)s %(id)s) is already here: its creation is not "
                      "applied twice.") % {"type": record_type, "id": record_id},
                    code="already_applied")


def _person(change: Change) -> Person:
    person = Person.objects.select_related("current_site").filter(pk=change.record_id).first()
    if person is None:
        raise NotFound(_("The person %(id)s is not here.") % {"id": change.record_id})
    return person


def _decided(change: Change) -> bool:
    """A person decided to apply this change as it came (``conflict_decide``)."""
    return bool(change.fields.get("_resolves")) or change.state == ChangeState.DECIDED


def _values(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if not k.startswith("_")}


def _file_restore(model, name: str, carried: dict | None) -> str:
    """Store a carried photo or scan under its name at the origin (kept when the same bytes
    are already stored there); returns the stored name."""
    if not carried or carried.get("data") is None:
        return ""
    data = base64.b64decode(carried["data"])
    storage = model._meta.get_field(name).storage
    if storage.exists(carried["name"]):
        with storage.open(carried["name"], "rb") as f:
            if f.read() == data:
                return carried["name"]
    return storage.save(carried["name"], ContentFile(data))


# --- arrival groups -------------------------------------------------------------------------

def apply_group_create(change: Change, actor) -> None:
    f = change.fields
    key = uuid.UUID(f["client_key"])
    if ArrivalGroup.objects.filter(pk=change.record_id).exists() \
            or ArrivalGroup.objects.filter(client_key=key).exists():
        raise _already(change.record_type, change.record_id)
    if ArrivalGroup.objects.filter(short_code=f["short_code"]).exists():
        raise UniqueBroken(_("The code %(code)s is already another group's here.")
                           % {"code": f["short_code"]}, code="short_code_taken")
    services.arrival_group_create(
        actor=actor, site=_site(f["site"]), client_key=key,
        arrived_at=dt.datetime.fromisoformat(f["arrived_at"]),
        reported_count=f["reported_count"], facilitated_by=f["facilitated_by"],
        formation=f["formation"], notes=f["notes"], id=change.record_id,
        short_code=f["short_code"])


def apply_group_update(change: Change, actor) -> None:
    group = ArrivalGroup.objects.filter(pk=change.record_id).first()
    if group is None:
        raise NotFound(_("The arrival group %(id)s is not here.") % {"id": change.record_id})
    services.arrival_group_update(actor=actor, group=group, version=group.version,
                                  **_values(change.fields))


# --- persons --------------------------------------------------------------------------------

def apply_person_create(change: Change, actor) -> None:
    f = change.fields
    key = uuid.UUID(f["client_key"])
    if Person.objects.filter(pk=change.record_id).exists() \
            or Person.objects.filter(client_key=key).exists():
        raise _already(change.record_type, change.record_id)
    documents = [{"id": _uuid(d["id"]), "kind": d["kind"], "number": d["number"],
                  # keyed with this node's look-up key
                  "number_key": document_lookup(d["number"]), "issuer": d["issuer"],
                  "expiry": dt.date.fromisoformat(d["expiry"]) if d["expiry"] else None,
                  "scan": None, "scan_file": d.get("scan")}
                 for d in f["documents"]]
    if not _decided(change):
        keys = [d["number_key"] for d in documents if d["number_key"]]
        if keys and IdentityDocument.objects.filter(number_key__in=keys).exclude(
                person_id=change.record_id).exists():
            raise UniqueBroken(_("A person with one of these document numbers is already in "
                                 "the register here."), code="document_taken")
    if Person.objects.filter(short_code=f["short_code"]).exists():
        # another node registered at this post's site meanwhile (its counter is its own)
        raise UniqueBroken(_("The code %(code)s is already another person's here.")
                           % {"code": f["short_code"]}, code="short_code_taken")
    group = None
    if f["group"]:
        group = ArrivalGroup.objects.filter(pk=f["group"]).first()
        if group is None:
            raise NotFound(_("The arrival group %(id)s is not here.") % {"id": f["group"]})
    for d in documents:
        d["scan_file"] = _file_restore(IdentityDocument, "scan", d["scan_file"])
    clean = services.CleanPerson(
        client_key=key, values=dict(f["values"]), aliases=[tuple(a) for a in f["aliases"]],
        documents=documents, content_hash=f["content_hash"],
        arrived_at=dt.datetime.fromisoformat(f["arrived_at"]), group=group, id=change.record_id,
        photo=_file_restore(Person, "photo", f["photo"]), short_code=f["short_code"],
        alias_ids=[_uuid(i) for i in f["alias_ids"]] or None, event_id=_uuid(f["event"]))
    # one at a time: the duplicate check queues likely duplicates among the persons
    # registered here, which the origin never saw (the same soldier at two posts)
    services.persons_register(actor=actor, site=_site(f["site"]), people=[clean],
                              status=f["status"], at=_time(f["at"]), single=True)


def apply_person_update(change: Change, actor) -> None:
    person = _person(change)
    services.person_update(actor=actor, person=person, version=person.version,
                           changes=_values(change.fields),
                           revision_id=_uuid(change.fields.get("_revision")))


def _status_check(person: Person, expected: str) -> None:
    if person.status != expected:
        raise Conflict(_("This person is “%(now)s” here, not “%(then)s” as where the change was "
                         "made.") % {"now": Status(person.status).label,
                                     "then": Status(expected).label}, code="stale_status")


def apply_person_transition(change: Change, actor) -> None:
    f = change.fields
    person = _person(change)
    _status_check(person, f["from"])
    services.persons_transition(actor=actor, persons=[person], to=f["to"],
                                details=f["details"], note=f["note"], at=_time(f["at"]),
                                event_ids=[_uuid(f["event"])])


def apply_person_categorise(change: Change, actor) -> None:
    f = change.fields
    services.person_categorise(actor=actor, person=_person(change), category=f["category"],
                               reason=f["reason"], revision_id=_uuid(f.get("_revision")))


def apply_person_separate(change: Change, actor) -> None:
    f = change.fields
    services.person_separate(actor=actor, person=_person(change), category=f["category"],
                             referral_to=f["referral_to"], note=f["note"], at=_time(f["at"]),
                             event_id=_uuid(f["event"]),
                             revision_id=_uuid(f.get("_revision")))


def apply_person_merge(change: Change, actor) -> None:
    f = change.fields
    duplicate = _person(change)
    survivor = Person.objects.filter(pk=f["survivor"]).first()
    if survivor is None:
        raise NotFound(_("The person %(id)s is not here.") % {"id": f["survivor"]})
    if duplicate.status == Status.MERGED:
        raise _already(change.record_type, change.record_id)
    services.person_merge(actor=actor, duplicate=duplicate, survivor=survivor,
                          site=Site.objects.filter(code=change.site).first(),
                          pair=f["pair"], at=_time(f["at"]), event_id=_uuid(f["event"]))


def apply_person_icrc_withhold(change: Change, actor) -> None:
    f = change.fields
    icrc.person_icrc_withhold(actor=actor, person=_person(change), withheld=f["withheld"],
                              reason=f["reason"])
