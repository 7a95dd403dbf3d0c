"""Writes of the reception register: arrival groups, registration, corrections, separation and
lifecycle moves. Each function checks access through ``mawa.accounts.access``, runs in one
transaction and writes its ledger entry inside it, so a change and its record commit together.

Pages, the API and (later) imports call these functions and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import uploads
from mawa.core.audit import audit_change
from mawa.core.errors import Conflict, Forbidden, ValidationFailed
from mawa.core.ledger import canonical_payload, ledger_append
from mawa.core.models import Site, SiteKind
from mawa.core.services import short_code_next
from mawa.matching.services import registry_index_update
from mawa.names import search_keys as name_keys
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


def _uuid(value, field_name: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={field_name: [_("This is not a valid identifier.")]})


# --- arrival groups ----------------------------------------------------------------------

def arrival_group_create(*, actor, site: Site, client_key, arrived_at: dt.datetime,
                         reported_count: int, facilitated_by: str = "", formation: str = "",
                         notes: str = "") -> ArrivalGroup:
    """Log a group that crossed together. Idempotent on ``client_key``: a retried submission
    returns the group already created."""
    access.require(actor, Perm.GROUP_MANAGE, site)
    key = _uuid(client_key, "client_key")
    errors: dict[str, list] = {}
    if site.kind != SiteKind.CROSSING:
        errors.setdefault("site", []).append(_("Arrival groups are logged at a crossing."))
    if reported_count is None or reported_count < 0:
        errors.setdefault("reported_count", []).append(_("Enter the number of people "
                                                         "reported (0 or more)."))
    if arrived_at is None:
        errors.setdefault("arrived_at", []).append(_("Enter when the group arrived."))
    elif arrived_at > timezone.now() + dt.timedelta(minutes=5):
        errors.setdefault("arrived_at", []).append(_("The arrival cannot be in the future."))
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    existing = ArrivalGroup.objects.filter(client_key=key).first()
    if existing:
        return existing
    with transaction.atomic():
        group = ArrivalGroup.objects.create(
            site=site, short_code=short_code_next(site=site), client_key=key,
            arrived_at=arrived_at, reported_count=reported_count,
            facilitated_by=facilitated_by.strip()[:200], formation=formation.strip()[:200],
            notes=notes.strip(), created_by=actor)
        ledger_append(stream=f"group/{group.id}", kind="group.created", actor=actor, site=site,
                      payload={"group": group.id, "short_code": group.short_code,
                               "reported_count": reported_count})
        audit_change(actor=actor, obj=group, action="create")
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
        documents.append({"kind": doc.kind, "number": number, "number_key": document_key(number),
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
    conflict). ``bulk.content_hash`` computes the same value faster (a test keeps them equal)."""
    doc_part = [{k: d[k] for k in ("kind", "number_key", "issuer", "expiry")} for d in documents]
    body = {"values": values, "aliases": aliases, "documents": doc_part, "files": hashes,
            "group": str(group_id or ""), "site": site.code}
    return hashlib.sha256(canonical_payload(body).encode()).hexdigest()


def _name_keys_write(person: Person, aliases: list[tuple[str, str]], *,
                     new: bool = False) -> None:
    """(Re)write the person's name keys; ``new``: just created, no old keys to delete."""
    if not new:
        person.name_keys.all().delete()
    rows = set()
    for part in NAME_PARTS:
        for script in ("ar", "lat"):
            for key in name_keys(getattr(person, f"{part}_{script}")):
                rows.add((part, key[:80]))
    for a_ar, a_lat in aliases:
        for key in name_keys(a_ar) + name_keys(a_lat):
            rows.add(("alias", key[:80]))
    PersonNameKey.objects.bulk_create([PersonNameKey(person=person, part=p, key=k)
                                       for p, k in sorted(rows)])


# Weights of the completeness figure (part 6 will show it by tier; this keeps it current).
_COMPLETENESS = (
    (("given_ar", "given_lat"), 15), (("father_ar", "father_lat"), 10),
    (("family_ar", "family_lat"), 10), (("grandfather_ar", "grandfather_lat"), 5),
    (("mother_given_ar", "mother_given_lat"), 5), (("birth_year",), 10),
    (("place_of_birth",), 5), (("nationality",), 10), (("service_number",), 10),
    (("rank",), 5), (("unit",), 5), (("family_contact_name",), 5), (("photo",), 5),
)


def person_completeness(person: Person) -> int:
    """Percentage of the full registration filled in (sex known counts as well)."""
    score = sum(w for names, w in _COMPLETENESS if any(getattr(person, n) for n in names))
    return min(100, score)


def person_register(*, actor, site: Site, client_key, data: PersonInput,
                    group: ArrivalGroup | None = None,
                    arrived_at: dt.datetime | None = None) -> tuple[Person, bool]:
    """Register one person; returns (person, created).

    Idempotent on ``client_key`` (generated by the form or device): a retry with the same
    content returns the person already registered with ``created=False``; the same key with
    different content is a ``Conflict`` (a re-used id must never overwrite a record).
    """
    access.require(actor, Perm.PERSON_REGISTER, site)
    key = _uuid(client_key, "client_key")
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
    try:
        with transaction.atomic():
            now = timezone.now()
            person = Person(site=site, current_site=site, short_code=short_code_next(site=site),
                            client_key=key, content_hash=digest, group=group,
                            arrived_at=arrived_at, status=Status.ARRIVED, status_changed_at=now,
                            registered_by=actor, **values)
            if data.photo is not None:
                person.photo.save(*_working_copy(data.photo, str(person.id)), save=False)
            person.completeness = person_completeness(person)
            person.save(force_insert=True)
            PersonAlias.objects.bulk_create([PersonAlias(person=person, name_ar=a, name_lat=b)
                                             for a, b in aliases])
            for doc in documents:
                d = IdentityDocument(person=person, kind=doc["kind"], number=doc["number"],
                                     number_key=doc["number_key"], issuer=doc["issuer"],
                                     expiry=doc["expiry"])
                if doc["scan"] is not None:
                    d.scan.save(*_working_copy(doc["scan"], str(d.id)), save=False)
                d.save(force_insert=True)
            _name_keys_write(person, aliases, new=True)
            # the documents and aliases just saved, not read back: the first national ID's
            # number key (in the order given, as they were saved) is what the index keeps
            national_id = next((d["number_key"] for d in documents
                                if d["kind"] == DocumentKind.NATIONAL_ID), "")
            registry_index_update(person, new=True, national_id=national_id, aliases=aliases)
            entry = ledger_append(stream=f"person/{person.id}", kind="person.registered",
                                  actor=actor, site=site,
                                  payload={"person": person.id, "short_code": person.short_code,
                                           "group": group.id if group else None,
                                           "status": Status.ARRIVED,
                                           "category": person.category,
                                           "content_hash": digest})
            LifecycleEvent.objects.create(person=person, from_status="", to_status=Status.ARRIVED,
                                          at=now, actor=actor, site=site, ledger_seq=entry.seq)
            audit_change(actor=actor, obj=person, action="create")
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


def person_update(*, actor, person: Person, version: int, changes: dict) -> Person:
    """Correct a person's details. ``version`` is the version the officer saw: if the record
    changed since, the update is refused (ODK Entities' rule — never silently overwrite), and
    the values replaced are kept in ``PersonRevision`` (protection.md R8)."""
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
        PersonRevision.objects.create(person=locked, version=locked.version, actor=actor,
                                      prior={k: getattr(locked, k) for k in changed})
        for k in changed:
            setattr(locked, k, values[k])
        locked.version += 1
        locked.completeness = person_completeness(locked)
        locked.save(update_fields=[*changed, "version", "completeness", "updated_at"])
        if set(changed) & set(NAME_FIELDS):
            _name_keys_write(locked, [(a.name_ar, a.name_lat) for a in locked.aliases.all()])
        registry_index_update(locked)
        ledger_append(stream=f"person/{locked.id}", kind="person.corrected", actor=actor,
                      site=locked.current_site,
                      payload={"person": locked.id, "fields": sorted(changed),
                               "version": locked.version})
        audit_change(actor=actor, obj=locked, fields=changed)
    return locked


# --- lifecycle ---------------------------------------------------------------------------

def _may(actor, transition: lifecycle.Transition, site) -> bool:
    return any(access.can(actor, p, site) for p in transition.perms)


def person_transitions_allowed(*, actor, person: Person) -> list[lifecycle.Transition]:
    """The moves ``actor`` may make now (for the person page's forms)."""
    return [t for t in lifecycle.transitions_from(person.status)
            if person.category in t.categories and _may(actor, t, person.current_site)]


def person_transition(*, actor, person: Person, to: str, details: dict | None = None,
                      note: str = "", expected_status: str | None = None) -> Person:
    """Move a person along the lifecycle; the change, its history row and its ledger entry
    (stream ``person/<id>``) are written in one transaction.

    ``expected_status`` guards against a double submission: a form posted twice moves once,
    and the second answers Conflict instead of attempting the next step.
    """
    details = {k: (v.strip() if isinstance(v, str) else v) for k, v in (details or {}).items()}
    with transaction.atomic():
        locked = Person.objects.select_for_update().select_related("current_site").get(
            pk=person.pk)
        transition = lifecycle.transition_find(locked.status, to)
        if transition is None:
            access.require(actor, Perm.PERSON_VIEW, locked.current_site)
            raise Conflict(_("A person who is “%(now)s” cannot become “%(to)s”.")
                           % {"now": Status(locked.status).label,
                              "to": Status(to).label if to in Status.values else to},
                           code="transition_not_allowed")
        if not _may(actor, transition, locked.current_site):
            access.require(actor, transition.perms[0], locked.current_site)
        if expected_status is not None and expected_status != locked.status:
            raise Conflict(_("This person's status changed meanwhile. Reload the page."),
                           code="stale_status")
        if locked.category not in transition.categories:
            raise Conflict(_("This move is not open to a person of category “%(c)s”.")
                           % {"c": Category(locked.category).label},
                           code="transition_not_allowed")
        recorded, errors = {}, {}
        new_site = None
        for req in transition.requires:
            value = details.get(req.name)
            if value in (None, ""):
                _add(errors, req.name, _("This is required for this move."))
                continue
            if req.kind == "date":
                value = _date_value(value, req.name, errors, not_after=timezone.now().date())
            elif req.kind == "camp":
                new_site = _camp_value(actor, value, req.name, errors, locked)
                value = new_site.code if new_site else None
            elif len(str(value)) > 2000:
                _add(errors, req.name, _("At most %(n)s characters.") % {"n": 2000})
            recorded[req.name] = value
        if errors:
            raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
        now = timezone.now()
        from_status = locked.status
        locked.status = transition.target
        locked.status_changed_at = now
        locked.version += 1
        fields = ["status", "status_changed_at", "version", "updated_at"]
        if new_site is not None:
            locked.current_site = new_site
            fields.append("current_site")
        if transition.target == Status.REFERRED_OUT:
            locked.referral_to = recorded["referral_to"][:200]
            fields.append("referral_to")
        locked.save(update_fields=fields)
        entry = ledger_append(
            stream=f"person/{locked.id}", kind="person.transition", actor=actor,
            site=locked.current_site,
            # what was recorded is named, not copied: the values stay in the register
            payload={"person": locked.id, "from": from_status, "to": transition.target,
                     "recorded": sorted(recorded), "site": locked.current_site.code,
                     "version": locked.version})
        LifecycleEvent.objects.create(person=locked, from_status=from_status,
                                      to_status=transition.target, at=now, actor=actor,
                                      site=locked.current_site, note=note.strip()[:4000],
                                      details=recorded, ledger_seq=entry.seq)
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
        day = dt.date(y, m, d)
    if day > not_after:
        _add(errors, name, _("The date cannot be in the future."))
        return None
    return day.isoformat()


def _camp_value(actor, value, name, errors, person) -> Site | None:
    site = value if isinstance(value, Site) else Site.objects.filter(
        code=str(value).strip().upper()).first() or _site_by_id(value)
    if site is None or site.kind != SiteKind.CAMP or not site.is_active \
            or not access.in_scope(actor, site):
        _add(errors, name, _("Choose an internment camp you work at."))
        return None
    if site.id == person.current_site_id:
        _add(errors, name, _("The person is already at this camp."))
        return None
    return site


def _site_by_id(value):
    try:
        return Site.objects.filter(pk=uuid.UUID(str(value))).first()
    except (ValueError, TypeError):
        return None


def person_separate(*, actor, person: Person, category: str, referral_to: str,
                    note: str = "") -> Person:
    """Separate a civilian or a child from the internment track and record to whom they were
    referred (IDDRS 5.40; UNHCR: combatants never stay with refugees, and children are never
    interned). The category change and the referral are one move on the ledger."""
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
        if locked.category != category:
            previous = locked.category
            PersonRevision.objects.create(person=locked, version=locked.version, actor=actor,
                                          prior={"category": previous})
            locked.category = category
            locked.version += 1
            locked.save(update_fields=["category", "version", "updated_at"])
            ledger_append(stream=f"person/{locked.id}", kind="person.categorised", actor=actor,
                          site=site, payload={"person": locked.id, "from": previous,
                                              "to": category, "version": locked.version})
        return person_transition(actor=actor, person=locked, to=Status.REFERRED_OUT,
                                 details={"referral_to": referral_to}, note=note)
