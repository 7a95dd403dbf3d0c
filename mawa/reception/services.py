"""Writes of the reception register: arrival groups, registration, corrections, separation,
lifecycle moves and merges. Each function checks access through ``mawa.accounts.access``, runs
in one transaction and writes its ledger entry inside it, so a change and its record commit
together.

Pages, the API, imports, the demo and (later) records replayed from another site call these
functions and nothing else. One implementation per write: ``persons_register`` writes any
number of checked persons in one statement per table (an import's 100,000 rows or the single
registration of ``person_register``, a batch of one), and ``persons_transition`` moves any
number of persons along one lifecycle edge (``person_transition`` is a batch of one).

Announcements (``mawa.core.hooks``), emitted inside the write's transaction for the apps above
reception (matching keeps its index and screens against the watch lists with them):

``person.registered``
    ``persons``: the ``Person`` rows just written (saved instances, ``site``,
    ``current_site`` and ``group`` cached); ``aliases``: {person id: [(Arabic, Latin), …]} of
    those that have any; ``national_ids``: {person id: number key of their first national
    ID} of those that have one; ``single``: True for a registration made one at a time (the
    officer's save: per-person work such as queueing likely duplicates for review is
    affordable), False for a batch (an import, whose rows were checked against the register
    as a whole, or the demo).
``person.changed``
    ``persons``: the ``Person`` rows whose identity values were corrected (saved instances);
    listeners read their aliases and documents if they need them; ``fields``: the names of the
    fields corrected.
``person.categorised``
    ``persons``: the ``Person`` rows whose category was decided or changed at separation.
``person.merged``
    ``duplicate`` and ``survivor``: the two ``Person`` rows; ``actor`` (a user or None for the
    command line), ``site``, ``pair`` (id of the review decision that found them one person)
    and ``ledger_seq`` (the duplicate's ``person.merged_into`` entry).
``person.review_requested``
    ``pairs``: [(person id, registered person id, score out of 100, reasons), …]: persons the
    officer chose to register although they may be persons already registered (an import's
    rows, decided one by one); the identity resolution queues each pair for review.
    ``actor``.
``person.transitioned``
    ``persons``: the ``Person`` rows just moved (instances updated to the new status);
    ``source`` and ``target``: the statuses; ``actor``; ``site``: where the move was recorded
    (the camp moved to, for a transfer); ``from_site``: the site they were at; ``recorded``:
    what the move recorded (``lifecycle.Requirement`` names → values); ``at``: when. The camp
    follows every move here (ends or pauses the stay, the roll-call expectation and the
    entitlements that hang on it) in the same transaction: a camp movement and a lifecycle
    move are one write.
``person.duplicates_decided``
    ``actor``, ``person`` (the person just registered) and ``decisions``: {id of a record the
    registration page suggested: ``match`` | ``not_match`` | ``unsure``}
    (``person_duplicates_decide``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import uploads
from mawa.core.audit import audit_change, audit_items
from mawa.core.changes import ChangeItem, change_applying_now, change_record_many
from mawa.core.changes_models import ChangeOp
from mawa.core.db.rows import fast_insert, field_defaults, insert_rows, row_dict, saved_instance
from mawa.core.errors import Conflict, Forbidden, ValidationFailed
from mawa.core.hooks import hook_emit
from mawa.core.ids import client_key_parse, uuid7
from mawa.core.ledger import LedgerItem, canonical_payload, ledger_append, ledger_append_many
from mawa.core.models import Site, SiteKind
from mawa.core.services import short_code_next, short_codes_reserve
from mawa.names import search_keys
from mawa.reception import lifecycle
from mawa.reception.models import (
    ArrivalGroup,
    Branch,
    Category,
    DatePrecision,
    DocumentKind,
    IdentityDocument,
    LifecycleEvent,
    Person,
    PersonAlias,
    PersonNameKey,
    PersonRevision,
    Sex,
    Status,
    Vulnerability,
)
from mawa.reception.values import (
    BadValue,
    document_key,
    document_lookup,
    name_check,
    partial_date_earliest,
    partial_date_parse,
)

# A face photo for the card and roll calls needs far less; larger files are refused with a
# clear message instead of filling the disk at a crowded gate (protection.md R15).
PHOTO_MAX_BYTES = 5 * 1024 * 1024
SCAN_MAX_BYTES = 10 * 1024 * 1024
_IMAGE_MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
_SCAN_MAGIC = (*_IMAGE_MAGIC, (b"%PDF-", "pdf"))

NAME_PARTS = ("given", "father", "grandfather", "family", "mother_given", "mother_family",
              "kunya")
NAME_FIELDS = tuple(f"{p}_{s}" for p in NAME_PARTS for s in ("ar", "lat"))
TEXT_FIELDS = ("place_of_birth", "rank", "unit", "notes", "family_contact_name",
               "family_contact_relation", "family_contact_phone", "family_contact_address",
               "vulnerability_notes")
# Fields a correction (person_update) may change. Status, category and site move only through
# person_transition / person_separate; identifiers never.
UPDATABLE_FIELDS = (*NAME_FIELDS, *TEXT_FIELDS, "sex", "birth", "nationality", "languages",
                    "service_number", "branch", "vulnerabilities")

_TEXT_LIMITS = {"place_of_birth": 120, "rank": 80, "unit": 160, "family_contact_name": 160,
                "family_contact_relation": 60, "family_contact_phone": 40,
                "family_contact_address": 300, "notes": 4000, "vulnerability_notes": 4000}
SYSTEM = "system:cli"

# record types of the changes captured for field operations (``core.changes``; replayed by
# ``reception.sync``)
GROUP_RECORD = "reception.group"
PERSON_RECORD = "reception.person"


# --- arrival groups ----------------------------------------------------------------------

def arrival_group_create(*, actor, site: Site, client_key, arrived_at: dt.datetime,
                         reported_count: int, facilitated_by: str = "", formation: str = "",
                         notes: str = "", id: uuid.UUID | None = None,
                         short_code: str = "") -> ArrivalGroup:
    """Log a group that crossed together. Idempotent on ``client_key``: a retried submission
    returns the group already created. ``id`` and ``short_code`` are given only by a replay
    of the group made at another node (``reception.sync``)."""
    access.require(actor, Perm.GROUP_MANAGE, site)
    key = client_key_parse(client_key)
    errors: dict[str, list] = {}
    if site.kind != SiteKind.CROSSING:
        errors.setdefault("site", []).append(_("Arrival groups are logged at a crossing."))
    if reported_count is None or reported_count < 0:
        errors.setdefault("reported_count", []).append(_("Enter the number of people "
                                                         "reported (0 or more)."))
    if arrived_at is None:
        errors.setdefault("arrived_at", []).append(_("Enter when the group arrived."))
    elif arrived_at > timezone.now() + dt.timedelta(minutes=5) and change_applying_now() is None:
        # (a replay keeps the origin's time: another node's clock may run ahead of this one)
        errors.setdefault("arrived_at", []).append(_("The arrival cannot be in the future."))
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    existing = ArrivalGroup.objects.filter(client_key=key).first()
    if existing:
        return existing
    with transaction.atomic():
        group = ArrivalGroup.objects.create(
            id=id or uuid7(), site=site, short_code=short_code or short_code_next(site=site),
            client_key=key, arrived_at=arrived_at, reported_count=reported_count,
            facilitated_by=facilitated_by.strip()[:200], formation=formation.strip()[:200],
            notes=notes.strip(), created_by=actor)
        ledger_append(stream=f"group/{group.id}", kind="group.created", actor=actor, site=site,
                      payload={"group": group.id, "short_code": group.short_code,
                               "reported_count": reported_count})
        audit_change(actor=actor, obj=group, action="create")
        change_record_many([ChangeItem(GROUP_RECORD, group.id, ChangeOp.CREATE, {
            "id": group.id, "site": site.code, "short_code": group.short_code,
            "client_key": key, "arrived_at": arrived_at, "reported_count": reported_count,
            "facilitated_by": group.facilitated_by, "formation": group.formation,
            "notes": group.notes})], actor=actor, site=site)
    return group


def arrival_group_update(*, actor, group: ArrivalGroup, version: int, **changes) -> ArrivalGroup:
    """Correct a group's details (e.g. a revised head-count from the gate). Versioned."""
    access.require(actor, Perm.GROUP_MANAGE, group.site)
    allowed = {"reported_count", "facilitated_by", "formation", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise Forbidden(_("These fields cannot be changed here: %(f)s")
                        % {"f": ", ".join(sorted(unknown))})
    if "reported_count" in changes and (changes["reported_count"] is None
                                        or changes["reported_count"] < 0):
        raise ValidationFailed(_("Check the highlighted fields."), fields={
            "reported_count": [_("Enter the number of people reported (0 or more).")]})
    with transaction.atomic():
        locked = ArrivalGroup.objects.select_for_update().get(pk=group.pk)
        if locked.version != version:
            raise Conflict(_("Someone else changed this group meanwhile. Reload it and make "
                             "your change again."), code="stale_version")
        changed = [k for k, v in changes.items() if getattr(locked, k) != v]
        if not changed:
            return locked
        for k in changed:
            setattr(locked, k, changes[k])
        locked.version += 1
        locked.save(update_fields=[*changed, "version", "updated_at"])
        ledger_append(stream=f"group/{locked.id}", kind="group.updated", actor=actor,
                      site=locked.site, payload={"group": locked.id, "fields": sorted(changed),
                                                 "version": locked.version})
        audit_change(actor=actor, obj=locked, fields=changed)
        change_record_many([ChangeItem(GROUP_RECORD, locked.id, ChangeOp.UPDATE,
                                       {k: changes[k] for k in changed})],
                           actor=actor, site=locked.site)
    return locked


# --- persons: input checking -------------------------------------------------------------

@dataclass
class DocumentInput:
    kind: str
    number: str
    issuer: str = ""
    expiry: dt.date | None = None
    scan: Any = None  # an UploadedFile


@dataclass
class PersonInput:
    """What a registration carries, as typed. ``birth`` is the date text ("1990", "1990-03",
    "١٩٩٠-٠٣-١٥"); ``approximate_age`` is used when no date is known (quick registration)."""

    values: dict[str, Any] = field(default_factory=dict)
    birth: str = ""
    approximate_age: int | None = None
    aliases: list[tuple[str, str]] = field(default_factory=list)
    documents: list[DocumentInput] = field(default_factory=list)
    photo: Any = None


def _add(errors: dict, name: str, message) -> None:
    errors.setdefault(name, []).append(message)


def _file_check(upload, *, limit: int, magic, name: str, errors: dict) -> bytes | None:
    """Read an upload and check its size and type; the bytes go into the idempotency hash."""
    if upload is None:
        return None
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        _add(errors, name, _("The file is %(size)s MB; the limit is %(limit)s MB. Take a "
                             "smaller photo or scan.")
             % {"size": round(size / 1024 / 1024, 1), "limit": limit // 1024 // 1024})
        return None
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        _add(errors, name, _("The file is larger than %(limit)s MB.")
             % {"limit": limit // 1024 // 1024})
        return None
    try:
        # content, not the name, decides the type; images are fully decoded (core.uploads)
        uploads.upload_check(data, allowed={ext for _sig, ext in magic}, max_bytes=limit)
    except uploads.UploadRefused:
        allowed = ", ".join(sorted({ext.upper() for _sig, ext in magic}))
        _add(errors, name, _("Only these file types are accepted: %(types)s.")
             % {"types": allowed})
        return None
    return data


# ``Enum.values`` builds a new list on every access; an import checks 100,000 rows
_SEX_VALUES = frozenset(Sex.values)
_CATEGORY_VALUES = frozenset(Category.values)
_BRANCH_VALUES = frozenset(Branch.values)
_VULNERABILITY_VALUES = frozenset(Vulnerability.values)
_DOCUMENT_KINDS = frozenset(DocumentKind.values)


def _known(value, values: frozenset) -> bool:
    # a list or dict sent to the API is simply unknown, not an unhashable-type crash
    return isinstance(value, str) and value in values


def person_input_clean(data: PersonInput, *, arrived_at: dt.datetime
                       ) -> tuple[dict, list, list, dict]:
    """Check everything typed for one person, collect every problem (not only the first) and
    return the cleaned values, aliases, documents and file hashes.

    The rules of a registration, in one place: ``person_register``, ``person_update``, the
    bulk import (``imports.import_check``) and the demo all call this. Writes nothing and
    checks no permission. Raises ``ValidationFailed`` with every field's problems, or
    ``Forbidden`` for fields that cannot be set by a registration (status, site …).
    ``arrived_at`` bounds the date of birth and decides who is a child."""
    errors: dict[str, list] = {}
    v = dict(data.values)
    out: dict[str, Any] = {}
    unknown = set(v) - set(NAME_FIELDS) - set(TEXT_FIELDS) - {
        "sex", "nationality", "languages", "service_number", "branch", "vulnerabilities",
        "category"}
    if unknown:
        # mass assignment of status, site, icrc flags … is refused (protection.md R2)
        raise Forbidden(_("These fields cannot be set here: %(f)s")
                        % {"f": ", ".join(sorted(unknown))}, code="field_not_allowed")
    for name in NAME_FIELDS:
        try:
            out[name] = name_check(str(v.get(name) or ""), "ar" if name.endswith("_ar") else "lat")
        except BadValue as exc:
            _add(errors, name, exc.message)
            continue
        if len(out[name]) > 80:
            _add(errors, name, _("At most 80 characters."))
    if not any(out.get(f"given_{s}") or out.get(f"family_{s}") for s in ("ar", "lat")) \
            and not errors:
        _add(errors, "given_ar", _("Enter at least a given or family name, in either script."))
    for name in TEXT_FIELDS:
        text = str(v.get(name) or "").strip()
        if len(text) > _TEXT_LIMITS[name]:
            _add(errors, name, _("At most %(n)s characters.") % {"n": _TEXT_LIMITS[name]})
        out[name] = text
    from mawa.core.digits import to_ascii_digits

    out["family_contact_phone"] = to_ascii_digits(out["family_contact_phone"])
    sex = v.get("sex") or Sex.UNKNOWN
    if not _known(sex, _SEX_VALUES):
        _add(errors, "sex", _("Choose a value from the list."))
    out["sex"] = sex
    category = v.get("category") or Category.COMBATANT
    if not _known(category, _CATEGORY_VALUES):
        _add(errors, "category", _("Choose a value from the list."))
    out["category"] = category
    nationality = str(v.get("nationality") or "").strip().upper()
    if nationality and not (len(nationality) == 2 and nationality.isascii()
                            and nationality.isalpha()):
        _add(errors, "nationality", _("Use the two-letter country code (e.g. SY, IQ)."))
    out["nationality"] = nationality
    langs = v.get("languages") or []
    if isinstance(langs, str):
        langs = [x for x in langs.replace(",", " ").split() if x]
    out["languages"] = sorted({str(x).strip().lower()[:8] for x in langs if str(x).strip()})
    out["service_number"] = document_key(str(v.get("service_number") or ""))[:40]
    branch = v.get("branch") or ""
    if branch and not _known(branch, _BRANCH_VALUES):
        _add(errors, "branch", _("Choose a value from the list."))
    out["branch"] = branch
    vulns = v.get("vulnerabilities") or []
    if isinstance(vulns, str):
        vulns = [vulns]
    bad = [x for x in vulns if not _known(x, _VULNERABILITY_VALUES)]
    if bad:
        _add(errors, "vulnerabilities", _("Unknown vulnerability: %(v)s")
             % {"v": ", ".join(map(str, bad))})
    out["vulnerabilities"] = sorted(set(vulns) - set(bad))

    # date of birth: typed date, else an approximate age (quick registration at the gate)
    try:
        y, m, d, precision = partial_date_parse(data.birth)
    except BadValue as exc:
        _add(errors, "birth", exc.message)
        y = m = d = None
        precision = DatePrecision.UNKNOWN
    if y is None and data.approximate_age is not None and "birth" not in errors:
        if not 0 <= data.approximate_age <= 110:
            _add(errors, "approximate_age", _("Enter an age between 0 and 110."))
        else:
            y, precision = arrived_at.year - data.approximate_age, DatePrecision.ESTIMATED
            if data.approximate_age < 18 and category == Category.COMBATANT:
                # the same rule as a typed date: a child is never a combatant without a decision
                _add(errors, "approximate_age", _("By this age the person is a child; choose the "
                                                  "category “child”."))
    earliest = partial_date_earliest(y, m, d)
    if earliest and earliest > arrived_at.date():
        _add(errors, "birth", _("The date of birth is after the arrival."))
    out.update(birth_year=y, birth_month=m, birth_day=d, birth_precision=precision)
    if earliest and precision != DatePrecision.ESTIMATED and category == Category.COMBATANT:
        age_years = (arrived_at.date() - earliest).days / 365.25
        if age_years < 18:
            # A child is never interned as a combatant (Optional Protocol CRC; IDDRS 5.30):
            # make the officer decide explicitly.
            _add(errors, "category", _("By the date of birth this person is a child; choose "
                                       "the category “child”."))

    aliases = []
    for i, (a_ar, a_lat) in enumerate(data.aliases):
        try:
            pair = (name_check(a_ar or "", "ar")[:160], name_check(a_lat or "", "lat")[:160])
        except BadValue as exc:
            _add(errors, f"aliases.{i}", exc.message)
            continue
        if any(pair):
            aliases.append(pair)

    documents, hashes = [], {}
    for i, doc in enumerate(data.documents):
        prefix = f"documents.{i}"
        if not _known(doc.kind, _DOCUMENT_KINDS):
            _add(errors, f"{prefix}.kind", _("Unknown document kind “%(k)s”. Choose one from "
                                             "the list.") % {"k": str(doc.kind)[:40]})
        number = to_ascii_digits((doc.number or "").strip())
        if not number:
            _add(errors, f"{prefix}.number", _("Enter the document number."))
        elif not document_key(number):
            _add(errors, f"{prefix}.number", _("The number has no letters or digits."))
        elif len(number) > 60:
            _add(errors, f"{prefix}.number", _("At most 60 characters."))
        scan = _file_check(doc.scan, limit=SCAN_MAX_BYTES, magic=_SCAN_MAGIC,
                           name=f"{prefix}.scan", errors=errors)
        if scan is not None:
            hashes[f"scan{i}"] = hashlib.sha256(scan).hexdigest()
        documents.append({"kind": doc.kind, "number": number, "number_key": document_lookup(number),
                          "issuer": (doc.issuer or "").strip()[:120], "expiry": doc.expiry,
                          "scan": doc.scan})
    photo = _file_check(data.photo, limit=PHOTO_MAX_BYTES, magic=_IMAGE_MAGIC, name="photo",
                        errors=errors)
    if photo is not None:
        hashes["photo"] = hashlib.sha256(photo).hexdigest()
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    return out, aliases, documents, hashes




def person_content_hash(values: dict, aliases: list, documents: list, hashes: dict, group_id,
                        site: Site) -> str:
    """SHA-256 (hex) of a cleaned registration (``person_input_clean``'s output, the group and
    the site): what makes two submissions "the same content" for idempotency (Kobo's rule:
    same id and same content is a harmless duplicate; same id and other content is a
    conflict)."""
    doc_part = [{k: d[k] for k in ("kind", "number_key", "issuer", "expiry")} for d in documents]
    body = {"values": values, "aliases": aliases, "documents": doc_part, "files": hashes,
            "group": str(group_id or ""), "site": site.code}
    return hashlib.sha256(canonical_payload(body).encode()).hexdigest()


_NAME_ATTRS = tuple((part, f"{part}_ar", f"{part}_lat") for part in NAME_PARTS)


@lru_cache(maxsize=100_000)
def _stored_keys(value: str) -> tuple[str, ...]:
    # the same names come back row after row: keyed once each (``mawa.names.search_keys``,
    # the one normaliser: search, suggestions, dedupe and screening meet on its keys; already
    # cut to the column's width)
    return search_keys(value)


def person_name_keys(values: Mapping, aliases) -> list[tuple[str, str]]:
    """Sorted (part, key) search keys of a person's names (``values`` by attname, e.g. a
    person's ``__dict__`` or cleaned values) and aliases ([(Arabic, Latin), …])."""
    rows = set()
    for part, a, b in _NAME_ATTRS:
        for value in (values[a], values[b]):
            if value:
                for key in _stored_keys(value):
                    rows.add((part, key))
    for pair in aliases:
        for value in pair:
            if value:
                for key in _stored_keys(value):
                    rows.add(("alias", key))
    return sorted(rows)


def _name_keys_write(persons: Sequence[tuple[Any, Mapping, Any]], *, new: bool) -> None:
    """(Re)write the name keys of persons given as (id, values by attname, aliases); ``new``:
    just created, no old keys to delete. One statement for all of them."""
    if not new:
        PersonNameKey.objects.filter(person_id__in=[pid for pid, _v, _a in persons]).delete()
    insert_rows(PersonNameKey, ("person_id", "part", "key"),
                [(pid, p, k) for pid, values, aliases in persons
                 for p, k in person_name_keys(values, aliases)])


# Weights of the completeness figure (part 6 will show it by tier; this keeps it current).
_COMPLETENESS = (
    (("given_ar", "given_lat"), 15), (("father_ar", "father_lat"), 10),
    (("family_ar", "family_lat"), 10), (("grandfather_ar", "grandfather_lat"), 5),
    (("mother_given_ar", "mother_given_lat"), 5), (("birth_year",), 10),
    (("place_of_birth",), 5), (("nationality",), 10), (("service_number",), 10),
    (("rank",), 5), (("unit",), 5), (("family_contact_name",), 5), (("photo",), 5),
)
COMPLETENESS_FIELDS = tuple(n for names, _w in _COMPLETENESS for n in names)


def person_completeness(values: Mapping) -> int:
    """Percentage of the full registration filled in, from a person's values by attname
    (``COMPLETENESS_FIELDS`` at least)."""
    score = 0
    for names, weight in _COMPLETENESS:
        for name in names:
            if values[name]:
                score += weight
                break
    return min(100, score)


@dataclass
class CleanPerson:
    """One person checked by ``person_input_clean``, with its content hash, ready for
    ``persons_register``. ``id`` and ``photo`` (the stored file's name) are set when the photo
    or scans were stored before the write (``person_register``); each document may carry its
    ``id`` and stored ``scan_file`` the same way. A replay of a registration made at another
    node (``reception.sync``) also gives the origin's ``short_code``, ``alias_ids`` (one per
    alias) and ``event_id`` (the first lifecycle event)."""

    client_key: uuid.UUID
    values: dict
    aliases: list
    documents: list
    content_hash: str
    arrived_at: dt.datetime
    group: ArrivalGroup | None = None
    id: uuid.UUID | None = None
    photo: str = ""
    short_code: str = ""
    alias_ids: list | None = None
    event_id: uuid.UUID | None = None


def persons_register(*, actor, site: Site, people: list[CleanPerson],
                     status: str = Status.ARRIVED, at: dt.datetime | None = None,
                     single: bool = False) -> list[Person]:
    """Register persons already checked by ``person_input_clean`` (an import's rows, the demo)
    in one transaction: for each the person row, aliases, documents and name keys, the
    ``person/<id>`` ledger entry, the audit entry and the history row, exactly as
    ``person_register`` writes one, in one statement per table whatever their number.

    Requires ``Perm.PERSON_REGISTER`` at ``site``. A client key already in the register is a
    ``Conflict`` (nothing is written): batches are not answered idempotently row by row.
    ``single``: announced as a registration made one at a time (``person.registered``; the
    replay of a registration made at another node, whose likely duplicates here are queued)."""
    access.require(actor, Perm.PERSON_REGISTER, site)
    if not people:
        return []
    keys = [p.client_key for p in people]
    taken: set[uuid.UUID] = set()
    for start in range(0, len(keys), 900):
        taken.update(Person.objects.filter(client_key__in=keys[start:start + 900])
                     .values_list("client_key", flat=True))
    if taken:
        raise Conflict(_("%(n)s of these records were already saved (same client key).")
                       % {"n": len(taken)}, code="idempotency_conflict")
    with transaction.atomic():
        return _persons_write(actor=actor, site=site, people=people, status=status, at=at,
                              single=single)


def _persons_write(*, actor, site: Site, people: list[CleanPerson], status: str,
                   at: dt.datetime | None, single: bool) -> list[Person]:
    """The one registration writer (``persons_register``, ``person_register``): rows, keys,
    announcement, ledger and audit entries, history. The caller has checked the permission
    and the client keys and runs this inside its transaction."""
    now = timezone.now()
    at = at or now
    fresh = iter(short_codes_reserve(site=site, count=sum(not c.short_code for c in people)))
    codes = [c.short_code or next(fresh) for c in people]
    # each person's row as a dict by attname: the model's defaults, what the service sets,
    # the cleaned values; the instance returned is built from the same values
    attnames = [f.attname for f in Person._meta.concrete_fields]
    constant, per_row = field_defaults(Person)
    given = {"site_id": site.pk, "current_site_id": site.pk, "status": status,
             "status_changed_at": at, "registered_by_id": actor.pk, "created_at": now,
             "updated_at": now}
    base = {**constant, **given}
    db = connection.alias
    rows, persons, aliases, documents, namekeys, items = [], [], [], [], [], []
    national_ids: dict[uuid.UUID, str] = {}
    alias_map: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for clean, code in zip(people, codes, strict=True):
        if not given.keys().isdisjoint(clean.values):
            raise TypeError(f"not cleaned values: {sorted(given.keys() & clean.values.keys())}")
        pid = clean.id or uuid7()
        d = {**base, **clean.values}
        d.update(id=pid, short_code=code, client_key=clean.client_key,
                 content_hash=clean.content_hash,
                 group_id=clean.group.pk if clean.group else None,
                 arrived_at=clean.arrived_at, photo=clean.photo)
        for attname, make in per_row:
            if attname not in d:
                d[attname] = make()
        if len(d) != len(attnames):
            raise TypeError(f"not fields of a person: {sorted(d.keys() - set(attnames))}")
        d["completeness"] = person_completeness(d)
        rows.append(d)
        persons.append(saved_instance(Person, d, db, site=site, current_site=site,
                                      registered_by=actor, group=clean.group))
        if clean.aliases:
            alias_map[pid] = clean.aliases
            alias_ids = clean.alias_ids or [uuid7() for _a in clean.aliases]
            aliases += [row_dict(PersonAlias, {"id": i, "person_id": pid, "name_ar": a,
                                               "name_lat": b})
                        for i, (a, b) in zip(alias_ids, clean.aliases, strict=True)]
        for doc in clean.documents:
            doc["id"] = doc.get("id") or uuid7()
            documents.append(row_dict(IdentityDocument, {
                "id": doc["id"], "person_id": pid, "kind": doc["kind"],
                "number": doc["number"], "number_key": doc["number_key"],
                "issuer": doc["issuer"], "expiry": doc["expiry"],
                "scan": doc.get("scan_file", "")}))
            if doc["kind"] == DocumentKind.NATIONAL_ID:
                # the first national ID, in the order given, is the one the index keeps
                national_ids.setdefault(pid, doc["number_key"])
        namekeys.append((pid, d, clean.aliases))
        items.append(LedgerItem(f"person/{pid}", "person.registered",
                                {"person": pid, "short_code": code,
                                 "group": clean.group.id if clean.group else None,
                                 "status": status, "category": d["category"],
                                 "content_hash": clean.content_hash}, actor, site))
    fast_insert(Person, rows)
    del rows
    fast_insert(PersonAlias, aliases)
    fast_insert(IdentityDocument, documents)
    _name_keys_write(namekeys, new=True)
    del namekeys
    hook_emit("person.registered", persons=persons, aliases=alias_map,
              national_ids=national_ids, single=single)
    items += audit_items(actor=actor, action="create", model="reception.person",
                         object_ids=[p.id for p in persons], site=site)
    entries = ledger_append_many(items)
    event = {"from_status": "", "to_status": status, "at": at, "actor_id": actor.pk,
             "site_id": site.pk}
    events = [c.event_id or uuid7() for c in people]
    fast_insert(LifecycleEvent,
                [row_dict(LifecycleEvent, {**event, "id": i, "person_id": p.id,
                                           "ledger_seq": e.seq})
                 for i, p, e in zip(events, persons, entries, strict=False)])
    change_record_many(_registered_changes(people, persons, aliases, events, site=site,
                                           status=status, at=at, single=single),
                       actor=actor, site=site)
    return persons


def _registered_changes(people: list[CleanPerson], persons: list[Person], alias_rows: list,
                        events: list, *, site: Site, status: str, at: dt.datetime,
                        single: bool) -> list[ChangeItem]:
    """One create change per person ``_persons_write`` registered: all that a replay gives
    ``persons_register`` to write the same rows, ids and codes (``reception.sync``)."""
    alias_ids: dict[uuid.UUID, list] = {}
    for row in alias_rows:
        alias_ids.setdefault(row["person_id"], []).append(row["id"])
    return [ChangeItem(PERSON_RECORD, p.id, ChangeOp.CREATE, {
        "site": site.code, "short_code": p.short_code, "client_key": clean.client_key,
        "content_hash": clean.content_hash, "group": clean.group.pk if clean.group else None,
        "arrived_at": clean.arrived_at, "status": status, "at": at, "single": single,
        # the values typed (empty ones are the model's defaults: a smaller change to seal)
        "event": event, "values": {k: v for k, v in clean.values.items() if v or v == 0},
        "aliases": clean.aliases,
        "alias_ids": alias_ids.get(p.id, []),
        "documents": [{"id": d["id"], "kind": d["kind"], "number": d["number"],
                       "issuer": d["issuer"], "expiry": d["expiry"],
                       "scan": _file_carried(IdentityDocument, "scan", d.get("scan_file", ""))}
                      for d in clean.documents],
        "photo": _file_carried(Person, "photo", clean.photo)})
        for clean, p, event in zip(people, persons, events, strict=True)]


def _file_carried(model, name: str, stored: str) -> dict | None:
    """A stored photo or scan as a change carries it: its name and its bytes (base64). The
    files were checked and re-encoded when stored (at most ``PHOTO_MAX_BYTES`` and
    ``SCAN_MAX_BYTES``), so every one travels whole."""
    if not stored:
        return None
    storage = model._meta.get_field(name).storage
    with storage.open(stored, "rb") as f:
        data = f.read()
    return {"name": stored, "data": base64.b64encode(data).decode("ascii")}


def _file_store(model, name: str, filename: str, content) -> str:
    """Store an upload as ``model``'s file field ``name`` stores it (its storage and
    ``upload_to``); returns the stored name for the row."""
    f = model._meta.get_field(name)
    return f.storage.save(f.generate_filename(None, filename), content,
                          max_length=f.max_length)


def person_register(*, actor, site: Site, client_key, data: PersonInput,
                    group: ArrivalGroup | None = None,
                    arrived_at: dt.datetime | None = None) -> tuple[Person, bool]:
    """Register one person; returns (person, created).

    Idempotent on ``client_key`` (generated by the form or device): a retry with the same
    content returns the person already registered with ``created=False``; the same key with
    different content is a ``Conflict`` (a re-used id must never overwrite a record). The
    photo and scans are stored, then the person is written by the registration writer of
    ``persons_register`` as a batch of one.
    """
    access.require(actor, Perm.PERSON_REGISTER, site)
    key = client_key_parse(client_key)
    if group is not None:
        access.require(actor, Perm.PERSON_REGISTER, group.site)
        if group.site_id != site.id:
            raise ValidationFailed(_("Check the highlighted fields."), fields={
                "group": [_("This group arrived at another site.")]})
    arrived_at = arrived_at or (group.arrived_at if group else timezone.now())
    values, aliases, documents, hashes = person_input_clean(data, arrived_at=arrived_at)
    digest = person_content_hash(values, aliases, documents, hashes,
                                 group.id if group else None, site)
    existing = Person.objects.filter(client_key=key).first()
    if existing is not None:
        return _idempotent_answer(existing, digest, actor), False
    clean = CleanPerson(client_key=key, values=values, aliases=aliases, documents=documents,
                        content_hash=digest, arrived_at=arrived_at, group=group, id=uuid7())
    try:
        with transaction.atomic():
            if data.photo is not None:
                clean.photo = _file_store(Person, "photo",
                                          *_working_copy(data.photo, str(clean.id)))
            for doc in documents:
                doc["id"] = uuid7()
                if doc["scan"] is not None:
                    doc["scan_file"] = _file_store(IdentityDocument, "scan",
                                                   *_working_copy(doc["scan"], str(doc["id"])))
            (person,) = _persons_write(actor=actor, site=site, people=[clean],
                                       status=Status.ARRIVED, at=None, single=True)
    except IntegrityError:
        # Two submissions with one key raced past the lookup above: the unique constraint kept
        # one; answer the loser exactly as a retry.
        existing = Person.objects.filter(client_key=key).first()
        if existing is None:
            raise
        return _idempotent_answer(existing, digest, actor), False
    return person, True


def _working_copy(upload, stem: str):
    """Name and content to store for a photo or scan: images re-encoded without EXIF (the GPS
    location of the phone that took them, protection.md attack test 11); PDFs as received."""
    from django.core.files.base import ContentFile

    upload.seek(0)
    raw = upload.read()
    upload.seek(0)
    if _ext(upload) == "pdf":
        return f"{stem}.pdf", ContentFile(raw)
    copy = uploads.image_working_copy(raw)
    return f"{stem}.{copy.extension}", ContentFile(copy.data)


def _ext(upload) -> str:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for sig, ext in _SCAN_MAGIC:
        if head.startswith(sig):
            return ext
    return "bin"


def _idempotent_answer(existing: Person, digest: str, actor) -> Person:
    if existing.content_hash != digest:
        raise Conflict(_("This form was already saved with different content. Reload the "
                         "page to register a new person."), code="idempotency_conflict")
    access.require(actor, Perm.PERSON_REGISTER, existing.site)
    return existing




def person_update(*, actor, person: Person, version: int, changes: dict,
                  revision_id: uuid.UUID | None = None) -> Person:
    """Correct a person's details. ``version`` is the version the officer saw: if the record
    changed since, the update is refused (ODK Entities' rule — never silently overwrite), and
    the values replaced are kept in ``PersonRevision`` (protection.md R8; ``revision_id`` is
    given by a replay of another node's correction)."""
    access.require(actor, Perm.PERSON_REGISTER, person.current_site)
    changes = dict(changes)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise Forbidden(_("These fields cannot be changed here: %(f)s")
                        % {"f": ", ".join(sorted(unknown))}, code="field_not_allowed")
    sensitive = {"family_contact_name", "family_contact_relation", "family_contact_phone",
                 "family_contact_address", "vulnerabilities", "vulnerability_notes"}
    if set(changes) & sensitive and not access.can(actor, Perm.PERSON_SENSITIVE_VIEW,
                                                   person.current_site):
        raise Forbidden(code="field_not_allowed")
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.version != version:
            raise Conflict(_("Someone else changed this person meanwhile (version %(have)s, "
                             "you saw %(saw)s). Reload and make your change again.")
                           % {"have": locked.version, "saw": version}, code="stale_version")
        # re-check the whole record as it would be after the change
        current = {f: getattr(locked, f) for f in (*NAME_FIELDS, *TEXT_FIELDS, "sex",
                                                   "nationality", "languages",
                                                   "service_number", "branch",
                                                   "vulnerabilities", "category")}
        birth = changes.pop("birth", None)
        if birth is None:
            birth = locked.birth_display
        merged = PersonInput(values={**current, **changes}, birth=birth)
        values, _aliases, _docs, _h = person_input_clean(merged, arrived_at=locked.arrived_at)
        if locked.birth_precision == DatePrecision.ESTIMATED and birth == locked.birth_display:
            values["birth_precision"] = DatePrecision.ESTIMATED
        changed = [k for k, val in values.items() if getattr(locked, k) != val]
        if not changed:
            return locked
        revision = PersonRevision.objects.create(
            id=revision_id or uuid7(), person=locked, version=locked.version, actor=actor,
            prior={k: getattr(locked, k) for k in changed})
        for k in changed:
            setattr(locked, k, values[k])
        locked.version += 1
        locked.completeness = person_completeness(
            {n: getattr(locked, n) for n in COMPLETENESS_FIELDS})
        locked.save(update_fields=[*changed, "version", "completeness", "updated_at"])
        if set(changed) & set(NAME_FIELDS):
            _name_keys_write([(locked.id, {a: getattr(locked, a) for a in NAME_FIELDS},
                               [(a.name_ar, a.name_lat) for a in locked.aliases.all()])],
                             new=False)
        hook_emit("person.changed", persons=[locked], fields=changed)
        ledger_append(stream=f"person/{locked.id}", kind="person.corrected", actor=actor,
                      site=locked.current_site,
                      payload={"person": locked.id, "fields": sorted(changed),
                               "version": locked.version})
        audit_change(actor=actor, obj=locked, fields=changed)
        # the corrected values as a correction gives them (a changed date of birth as its
        # text), so that a replay cleans them to the same values
        fields = {k: values[k] for k in changed if k in UPDATABLE_FIELDS}
        if any(k.startswith("birth_") for k in changed):
            fields["birth"] = birth
        change_record_many([ChangeItem(PERSON_RECORD, locked.id, ChangeOp.UPDATE,
                                       {**fields, "_revision": revision.id})],
                           actor=actor, site=locked.current_site)
    return locked



# --- lifecycle ---------------------------------------------------------------------------

def _may(actor, transition: lifecycle.Transition, site) -> bool:
    return any(access.can(actor, p, site) for p in transition.perms)


def person_transitions_allowed(*, actor, person: Person) -> list[lifecycle.Transition]:
    """The moves ``actor`` may make now (for the person page's forms)."""
    return [t for t in lifecycle.transitions_from(person.status)
            if person.category in t.categories and _may(actor, t, person.current_site)]


def _transition_check(actor, *, source: str, to: str, categories: set[str], site,
                      expected_status: str | None = None) -> lifecycle.Transition:
    """The move from ``source`` to ``to`` for persons of ``categories`` at ``site``, if the
    lifecycle has it and ``actor`` may make it; else the refusal."""
    transition = lifecycle.transition_find(source, to)
    if transition is None:
        access.require(actor, Perm.PERSON_VIEW, site)
        raise Conflict(_("A person who is “%(now)s” cannot become “%(to)s”.")
                       % {"now": Status(source).label,
                          "to": Status(to).label if to in Status.values else to},
                       code="transition_not_allowed")
    if not _may(actor, transition, site):
        access.require(actor, transition.perms[0], site)
    if expected_status is not None and expected_status != source:
        raise Conflict(_("This person's status changed meanwhile. Reload the page."),
                       code="stale_status")
    refused = sorted(set(categories) - transition.categories)
    if refused:
        raise Conflict(_("This move is not open to a person of category “%(c)s”.")
                       % {"c": Category(refused[0]).label}, code="transition_not_allowed")
    return transition


def _transition_details(actor, transition: lifecycle.Transition, details: dict | None,
                        site) -> tuple[dict, Site | None]:
    """What the move records (``transition.requires``), checked: (recorded values by name,
    the camp the persons move to or None). Every problem is a field error."""
    details = {k: (v.strip() if isinstance(v, str) else v) for k, v in (details or {}).items()}
    recorded: dict[str, Any] = {}
    errors: dict[str, list] = {}
    new_site = None
    for req in transition.requires:
        value = details.get(req.name)
        if value in (None, ""):
            _add(errors, req.name, _("This is required for this move."))
            continue
        if req.kind == "date":
            value = _date_value(value, req.name, errors, not_after=timezone.now().date())
        elif req.kind == "camp":
            new_site = _camp_value(actor, value, req.name, errors, site)
            value = new_site.code if new_site else None
        elif len(str(value)) > 2000:
            _add(errors, req.name, _("At most %(n)s characters.") % {"n": 2000})
        recorded[req.name] = value
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    return recorded, new_site


def _transitions_write(*, actor, persons: list[Person], source: str,
                       transition: lifecycle.Transition, recorded: dict,
                       new_site: Site | None, site: Site, note: str,
                       at: dt.datetime | None, event_ids: Sequence | None = None,
                       capture: bool = True) -> int:
    """The one lifecycle writer (``persons_transition``, ``person_transition``): the status
    change, the ``person.transition`` ledger entries and the history rows, one statement per
    table. The persons (in ``source`` status at ``site``) were checked by the caller, which
    runs this inside its transaction; the instances are updated to match.

    Each move is captured as a ``transition`` action of the person (``core.changes``) unless
    ``capture`` is False: a caller that captures the whole action itself (a separation, a
    merge) and whose replay moves the person again. ``event_ids`` (one per person) are the
    history rows' ids of a replayed move."""
    at = at or timezone.now()
    target = transition.target
    ids = [p.id for p in persons]
    fields = {"status": target, "status_changed_at": at, "version": F("version") + 1,
              "updated_at": at}
    if new_site is not None:
        fields["current_site"] = new_site
    referral = str(recorded["referral_to"])[:200] if target == Status.REFERRED_OUT else None
    if referral is not None:
        fields["referral_to"] = referral
    moved = 0
    for start in range(0, len(ids), 900):
        moved += Person.objects.filter(id__in=ids[start:start + 900],
                                       status=source).update(**fields)
    if moved != len(ids):
        raise Conflict(_("Some of these persons changed status meanwhile. Reload."),
                       code="stale_status")
    where = new_site or site
    # what was recorded is named, not copied: the values stay in the register
    entries = ledger_append_many(
        [LedgerItem(f"person/{p.id}", "person.transition",
                    {"person": p.id, "from": source, "to": target, "recorded": sorted(recorded),
                     "site": where.code, "version": p.version + 1}, actor, where)
         for p in persons])
    note = note.strip()[:4000]
    events = list(event_ids) if event_ids else [uuid7() for _p in persons]
    fast_insert(LifecycleEvent,
                [row_dict(LifecycleEvent, {
                    "id": i, "person_id": p.id, "from_status": source, "to_status": target,
                    "at": at, "actor_id": actor.pk, "site_id": where.pk, "note": note,
                    "details": recorded, "ledger_seq": e.seq})
                 for i, p, e in zip(events, persons, entries, strict=True)])
    if capture:
        change_record_many([ChangeItem(PERSON_RECORD, p.id, ChangeOp.ACTION, {
            "action": "transition", "from": source, "to": target, "details": recorded,
            "note": note, "at": at, "event": i}) for i, p in zip(events, persons, strict=True)],
            actor=actor, site=where)
    for p in persons:
        p.status, p.status_changed_at, p.updated_at = target, at, at
        p.version += 1
        if new_site is not None:
            p.current_site = new_site
        if referral is not None:
            p.referral_to = referral
    hook_emit("person.transitioned", persons=persons, source=source, target=target,
              actor=actor, site=where, from_site=site, recorded=recorded, at=at)
    return moved


def persons_transition(*, actor, persons: list[Person], to: str, details: dict | None = None,
                       note: str = "", at: dt.datetime | None = None,
                       event_ids: Sequence | None = None, capture: bool = True) -> int:
    """Move persons along one lifecycle edge (the demo, camp operations on many): the checks
    of ``person_transition`` once for all, then one statement per table. All persons must be
    in one status at one site; if one of them moved meanwhile, nothing moves (``Conflict``).
    Returns how many moved. ``event_ids`` and ``capture``: see ``_transitions_write``."""
    if not persons:
        return 0
    sources = {p.status for p in persons}
    sites = {p.current_site_id for p in persons}
    if len(sources) != 1 or len(sites) != 1:
        raise Conflict(_("A batch move needs persons in one status at one site."),
                       code="transition_not_allowed")
    source = sources.pop()
    site = persons[0].current_site
    transition = _transition_check(actor, source=source, to=to, site=site,
                                   categories={p.category for p in persons})
    recorded, new_site = _transition_details(actor, transition, details, site)
    with transaction.atomic():
        return _transitions_write(actor=actor, persons=persons, source=source,
                                  transition=transition, recorded=recorded, new_site=new_site,
                                  site=site, note=note, at=at, event_ids=event_ids,
                                  capture=capture)


def person_transition(*, actor, person: Person, to: str, details: dict | None = None,
                      note: str = "", expected_status: str | None = None,
                      at: dt.datetime | None = None, event_id: uuid.UUID | None = None,
                      capture: bool = True) -> Person:
    """Move a person along the lifecycle; the change, its history row and its ledger entry
    (stream ``person/<id>``) are written in one transaction, by the writer of
    ``persons_transition`` (a batch of one, under the person's row lock).

    ``expected_status`` guards against a double submission: a form posted twice moves once,
    and the second answers Conflict instead of attempting the next step. ``at`` (default
    now), ``event_id`` (a replayed move's history row) and ``capture`` (False for a service
    that captures the whole action it moves the person in): see ``_transitions_write``.
    """
    with transaction.atomic():
        locked = Person.objects.select_for_update().select_related("current_site").get(
            pk=person.pk)
        site = locked.current_site
        transition = _transition_check(actor, source=locked.status, to=to, site=site,
                                       categories={locked.category},
                                       expected_status=expected_status)
        recorded, new_site = _transition_details(actor, transition, details, site)
        _transitions_write(actor=actor, persons=[locked], source=locked.status,
                           transition=transition, recorded=recorded, new_site=new_site,
                           site=site, note=note, at=at,
                           event_ids=[event_id] if event_id else None, capture=capture)
    return locked


def _date_value(value, name, errors, *, not_after: dt.date):
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            y, m, d, precision = partial_date_parse(str(value))
        except BadValue as exc:
            _add(errors, name, exc.message)
            return None
        if precision != DatePrecision.DAY:
            _add(errors, name, _("Enter the full date (year-month-day)."))
            return None
        # a date of day precision has all three parts (partial_date_check)
        assert y is not None and m is not None and d is not None
        day = dt.date(y, m, d)
    if day > not_after:
        _add(errors, name, _("The date cannot be in the future."))
        return None
    return day.isoformat()


def _camp_value(actor, value, name, errors, current_site) -> Site | None:
    site = value if isinstance(value, Site) else Site.objects.filter(
        code=str(value).strip().upper()).first() or _site_by_id(value)
    if site is None or site.kind != SiteKind.CAMP or not site.is_active \
            or not access.in_scope(actor, site):
        _add(errors, name, _("Choose an internment camp you work at."))
        return None
    if site.id == current_site.id:
        _add(errors, name, _("The person is already at this camp."))
        return None
    return site


def _site_by_id(value):
    try:
        return Site.objects.filter(pk=uuid.UUID(str(value))).first()
    except (ValueError, TypeError):
        return None


def person_categorise(*, actor, person: Person, category: str, reason: str,
                      revision_id: uuid.UUID | None = None) -> Person:
    """The protection officer's decision on a person's category after registration (an age
    assessment, a civilian found to be a combatant or the reverse), with its reason, on the
    ledger (``person.categorised``, ``decision`` true). The only way a child or a civilian
    reaches the combatants' track, which ends in internment: nobody else may make it, and a
    person whose recorded date of birth makes him a child on arrival cannot be made a
    combatant (correct the date of birth first, on the age assessment). Only before
    internment: a person already interned or beyond keeps the category he was interned in.
    ``revision_id``: the history row of a replayed decision (``reception.sync``)."""
    if category not in Category.values:
        raise ValidationFailed(_("Check the highlighted fields."), fields={
            "category": [_("Choose a category from the list.")]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Check the highlighted fields."), fields={
            "reason": [_("Give the reason for the decision.")]})
    with transaction.atomic():
        locked = Person.objects.select_for_update().select_related("current_site").get(
            pk=person.pk)
        site = locked.current_site
        access.require(actor, Perm.PROTECTION_ACT, site)
        if locked.status not in (Status.ARRIVED, Status.DISARMED, Status.REGISTERED):
            raise Conflict(_("A person who is “%(now)s” keeps his category.")
                           % {"now": Status(locked.status).label},
                           code="transition_not_allowed")
        if category == locked.category:
            return locked
        if category == Category.COMBATANT and _child_on_arrival(locked):
            raise Conflict(_("By the recorded date of birth this person was a child on "
                             "arrival. Correct the date of birth first if an age assessment "
                             "found otherwise."), code="child_not_combatant")
        previous = locked.category
        revision = PersonRevision.objects.create(
            id=revision_id or uuid7(), person=locked, version=locked.version, actor=actor,
            prior={"category": previous})
        locked.category = category
        locked.version += 1
        locked.save(update_fields=["category", "version", "updated_at"])
        ledger_append(stream=f"person/{locked.id}", kind="person.categorised", actor=actor,
                      site=site, payload={"person": locked.id, "from": previous,
                                          "to": category, "decision": True,
                                          "reason_sha256": hashlib.sha256(
                                              reason.encode()).hexdigest(),
                                          "version": locked.version})
        audit_change(actor=actor, obj=locked, fields=["category"])
        hook_emit("person.categorised", persons=[locked])
        change_record_many([ChangeItem(PERSON_RECORD, locked.id, ChangeOp.ACTION, {
            "action": "categorise", "category": category, "reason": reason,
            "_revision": revision.id})], actor=actor, site=site)
    return locked


def _child_on_arrival(p: Person) -> bool:
    """Whether the recorded date of birth (at any precision but an estimate) makes the
    person under 18 on arrival; the latest possible birthday counts, to the person's favour
    as a child."""
    if p.birth_year is None:
        return False
    arrived = p.arrived_at.date()
    month, day = p.birth_month or 1, p.birth_day or 1
    try:
        eighteenth = dt.date(p.birth_year + 18, month, day)
    except ValueError:  # 29 February
        eighteenth = dt.date(p.birth_year + 18, 3, 1)
    return eighteenth > arrived


def person_separate(*, actor, person: Person, category: str, referral_to: str,
                    note: str = "", at: dt.datetime | None = None,
                    event_id: uuid.UUID | None = None,
                    revision_id: uuid.UUID | None = None) -> Person:
    """Separate a civilian or a child from the internment track and record to whom they were
    referred (IDDRS 5.40; UNHCR: combatants never stay with refugees, and children are never
    interned). The category change and the referral are one move on the ledger, and one
    ``separate`` action captured for field operations (``at``, ``event_id`` and
    ``revision_id`` are given by its replay)."""
    if category not in (Category.CIVILIAN, Category.CHILD):
        raise ValidationFailed(_("Check the highlighted fields."), fields={
            "category": [_("Separation is for civilians and children.")]})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        transition = lifecycle.transition_find(locked.status, Status.REFERRED_OUT)
        site = locked.current_site
        if transition is None or not _may(actor, transition, site):
            if transition is not None:
                access.require(actor, transition.perms[0], site)
            raise Conflict(_("A person who is “%(now)s” can no longer be separated here.")
                           % {"now": Status(locked.status).label},
                           code="transition_not_allowed")
        revision = None
        if locked.category != category:
            previous = locked.category
            revision = PersonRevision.objects.create(
                id=revision_id or uuid7(), person=locked, version=locked.version, actor=actor,
                prior={"category": previous})
            locked.category = category
            locked.version += 1
            locked.save(update_fields=["category", "version", "updated_at"])
            ledger_append(stream=f"person/{locked.id}", kind="person.categorised", actor=actor,
                          site=site, payload={"person": locked.id, "from": previous,
                                              "to": category, "version": locked.version})
            hook_emit("person.categorised", persons=[locked])
        at, event_id = at or timezone.now(), event_id or uuid7()
        moved = person_transition(actor=actor, person=locked, to=Status.REFERRED_OUT,
                                  details={"referral_to": referral_to}, note=note, at=at,
                                  event_id=event_id, capture=False)
        change_record_many([ChangeItem(PERSON_RECORD, locked.id, ChangeOp.ACTION, {
            "action": "separate", "category": category, "referral_to": referral_to,
            "note": note, "at": at, "event": event_id,
            "_revision": revision.id if revision else None})], actor=actor, site=site)
        return moved


def persons_review_request(*, actor, pairs: Sequence[tuple]) -> None:
    """Ask for a duplicate review of each (new person, registered person, score, reasons)
    pair, inside the caller's transaction (``import_commit``: a row the officer imported
    although it may be someone already registered)."""
    if pairs:
        hook_emit("person.review_requested", pairs=list(pairs), actor=actor)


# --- merges --------------------------------------------------------------------------------

def person_merge(*, actor, duplicate: Person, survivor: Person, site, pair=None,
                 at: dt.datetime | None = None, event_id: uuid.UUID | None = None) -> int:
    """Record that ``duplicate`` is the same person as ``survivor`` (a reviewer's decision,
    ``pair`` its id): both ``person/<id>`` streams record the merge, and ``person.merged`` is
    announced (matching takes the duplicate out of its index). Nothing is deleted or
    rewritten: the duplicate's row, history and stream stay. ``actor`` None is the operator at
    the command line. Returns the sequence number of the duplicate's ``person.merged_into``
    entry. Runs inside the caller's transaction (the decision's). Captured as a ``merge``
    action of the duplicate (``at`` and ``event_id``, its move's time and history row, are
    given by its replay)."""
    if actor is not None:
        access.require(actor, Perm.MATCH_REVIEW, duplicate.current_site)
    who = actor if actor is not None else SYSTEM
    payload = {"duplicate": duplicate.pk, "survivor": survivor.pk, "pair": pair}
    with transaction.atomic(savepoint=False):
        entry, _survivor_entry = ledger_append_many([
            LedgerItem(f"person/{duplicate.pk}", "person.merged_into", payload, who, site),
            LedgerItem(f"person/{survivor.pk}", "person.merged_from", payload, who, site)])
        hook_emit("person.merged", duplicate=duplicate, survivor=survivor, actor=actor,
                  site=site, pair=pair, ledger_seq=entry.seq)
        if actor is not None:
            # the duplicate record leaves every count and the camp: a lifecycle move
            locked = Person.objects.select_for_update().select_related("current_site").get(
                pk=duplicate.pk)
            transition = lifecycle.merge_transition(locked.status)
            if transition is not None:
                at, event_id = at or timezone.now(), event_id or uuid7()
                _transitions_write(actor=actor, persons=[locked], source=locked.status,
                                   transition=transition, recorded={}, new_site=None,
                                   site=locked.current_site, note="", at=at,
                                   event_ids=[event_id], capture=False)
                duplicate.status, duplicate.version = locked.status, locked.version
                duplicate.status_changed_at = locked.status_changed_at
        change_record_many([ChangeItem(PERSON_RECORD, duplicate.pk, ChangeOp.ACTION, {
            "action": "merge", "survivor": survivor.pk, "pair": pair, "at": at,
            "event": event_id})], actor=who, site=site)
    return entry.seq


# --- the registering officer's word on suggested duplicates (issue 21) ----------------------

DUPLICATE_DECISIONS = ("match", "not_match", "unsure")


def person_duplicates_decide(*, actor, person: Person, decisions: Mapping[str, str]) -> None:
    """Hand the registering officer's decisions on the records the registration page
    suggested (a record's id → ``match``, ``not_match`` or ``unsure``) to the review queue.

    Reception does not decide what a duplicate is: it announces ``person.duplicates_decided``
    (``actor``, ``person``, ``decisions``) and the identity resolution app records each one
    (a pair decided on the ledger, or left open for a reviewer when unsure), in this
    transaction. Unknown decisions are refused.
    """
    access.require(actor, Perm.MATCH_REVIEW, person.current_site)
    wanted = {str(k): v for k, v in decisions.items() if v}
    if any(v not in DUPLICATE_DECISIONS for v in wanted.values()):
        raise ValidationFailed(_("Choose same person, not him or unsure."))
    if not wanted:
        return
    with transaction.atomic():
        hook_emit("person.duplicates_decided", actor=actor, person=person, decisions=wanted)
