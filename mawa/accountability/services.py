"""Writes of the accountability compartment.

Every function checks access (``mawa.accounts.access``: to anyone without the compartment's
permissions it answers NotFound, as if nothing existed), runs in one transaction and writes its
ledger entry inside it. Ledger payloads carry ids, codes and hashes — never names, places or
descriptions, which stay encrypted in their rows.

Streams: ``event/<id>`` (the allegation's history), ``evidence/<id>`` (chain of custody of one
file: intake, every view, download, handover, copy and fixity check), ``referral/<id>``,
``break-glass`` (administrators' emergency access), and ``audit`` for refusals.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accountability import crypto, intake
from mawa.accountability.models import (
    Act,
    ActItem,
    BreakGlassGrant,
    Credibility,
    DatePrecision,
    Derivation,
    Event,
    EvidenceItem,
    HoldRecord,
    Information,
    Involvement,
    InvolvementDegree,
    InvolvementRole,
    RecipientKind,
    Referral,
    ReferralStatus,
    Reliability,
    Source,
    SourceKind,
    Violation,
)
from mawa.accounts import access
from mawa.accounts.roles import Perm, Role
from mawa.core.audit import audit
from mawa.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mawa.core.ids import client_key_parse, uuid7
from mawa.core.ledger import ledger_append
from mawa.core.models import Site
from mawa.core.services import short_code_next
from mawa.custody.models import Item
from mawa.custody.services import legal_hold_lift, legal_hold_set
from mawa.reception.selectors import persons_visible

BREAK_GLASS_MAX = dt.timedelta(hours=3)  # DHIS2's override lasts 3 hours
BREAK_GLASS_REASON_MIN = 20

REFUSALS = {
    "bad_name": _("The file name is empty or too long."),
    "path_traversal": _("The file name contains a path or control characters; it was refused."),
    "no_extension": _("The file name has no extension."),
    "type_not_allowed": _("Files of this type are not accepted as evidence."),
    "empty": _("The file is empty."),
    "too_large": _("The file is larger than the limit."),
    "type_mismatch": _("The file is not what its extension says; it was refused."),
    "zip_bomb": _("The archive expands far beyond its size (a zip bomb); it was refused."),
}


def _invalid(field: str, message) -> ValidationFailed:
    return ValidationFailed(_("Check the highlighted fields."), fields={field: [message]})


def _refusal_record(*, actor, action: str, code: str, object_id="") -> None:
    """Write a refused attempt to the audit stream in its own transaction, so that it survives
    the refusal (nothing of the refused content is recorded, only the reason's code)."""
    with transaction.atomic():
        audit(actor=actor, action=action, outcome="refused", model="accountability",
              object_id=str(object_id), detail={"reason": code})


def _edit(actor) -> None:
    access.require(actor, Perm.COMPARTMENT_EDIT)


# --- events, acts, involvements ----------------------------------------------------------

def event_create(*, actor, site: Site, client_key, title: str, description: str = "",
                 place: str = "", date_start: dt.date | None = None,
                 date_end: dt.date | None = None,
                 date_precision: str = DatePrecision.UNKNOWN) -> Event:
    """Record an event (what, when, where). Idempotent on ``client_key``."""
    _edit(actor)
    key = client_key_parse(client_key)
    title = (title or "").strip()
    if not title:
        raise _invalid("title", _("Give the event a title."))
    if date_precision not in DatePrecision.values:
        raise _invalid("date_precision", _("Choose a precision."))
    if date_start and date_end and date_end < date_start:
        raise _invalid("date_end", _("The end is before the start."))
    existing = Event.objects.filter(client_key=key).first()
    if existing:
        return existing
    with transaction.atomic():
        event = Event.objects.create(
            site=site, short_code=short_code_next(site=site), client_key=key, title=title[:500],
            description=description.strip(), place=place.strip()[:500], date_start=date_start,
            date_end=date_end, date_precision=date_precision, created_by=actor)
        ledger_append(stream=f"event/{event.id}", kind="event.created", actor=actor, site=site,
                      payload={"event": event.id, "short_code": event.short_code})
    return event


def act_add(*, actor, event: Event, violation: str, date: dt.date | None = None,
            place: str = "", description: str = "") -> Act:
    """Add one alleged violation (a Rome Statute art. 8 category) to an event."""
    _edit(actor)
    if violation not in Violation.values:
        raise _invalid("violation", _("Choose a violation from the list."))
    with transaction.atomic():
        act = Act.objects.create(site=event.site, short_code=short_code_next(site=event.site),
                                 event=event, violation=violation, date=date,
                                 place=place.strip()[:500], description=description.strip(),
                                 created_by=actor)
        ledger_append(stream=f"event/{event.id}", kind="act.added", actor=actor,
                      site=event.site, payload={"act": act.id, "violation": violation})
    return act


def involvement_add(*, actor, act: Act, role: str, person=None, unit: str = "",
                    unknown: bool = False, degree: str = InvolvementDegree.UNKNOWN,
                    note: str = "") -> Involvement:
    """Name who took part in an act and how: a registered person, a unit or an unknown person.
    A registered person must be one the investigator may see (``persons_visible``)."""
    _edit(actor)
    if role not in InvolvementRole.values:
        raise _invalid("role", _("Choose a role."))
    if degree not in InvolvementDegree.values:
        raise _invalid("degree", _("Choose a degree of involvement."))
    unit = (unit or "").strip()
    if person is None and not unit and not unknown:
        raise _invalid("person", _("Name a registered person, a unit, or mark the person "
                                   "unknown."))
    if person is not None and not persons_visible(user=actor).filter(pk=person.pk).exists():
        raise NotFound()
    with transaction.atomic():
        inv = Involvement.objects.create(act=act, person=person, unit=unit[:300],
                                         unknown=unknown, role=role, degree=degree,
                                         note=note.strip(), created_by=actor)
        ledger_append(stream=f"event/{act.event_id}", kind="involvement.added", actor=actor,
                      site=act.site, payload={"act": act.id, "involvement": inv.id,
                                              "person": person.id if person else None,
                                              "role": role, "degree": degree})
    return inv


def act_item_link(*, actor, act: Act, item, note: str = "") -> ActItem:
    """Link a surrendered item (from custody) to an act: the weapon used, the unit's vehicle."""
    _edit(actor)
    item = _custody_item(actor, item)
    with transaction.atomic():
        link, created = ActItem.objects.get_or_create(act=act, item=item,
                                                      defaults={"note": note.strip()})
        if created:
            ledger_append(stream=f"event/{act.event_id}", kind="act.item_linked", actor=actor,
                          site=act.site, payload={"act": act.id, "item": item.pk})
    return link


def _custody_item(actor, item):
    """An item of the custody register the investigator may see, by record or short code."""
    if isinstance(item, Item):
        return item
    text = str(item or "").strip()
    lookup: dict[str, object] = {"short_code": text.upper()}
    try:
        lookup = {"id": uuid.UUID(text)}
    except ValueError:
        pass
    return access.get_for_user(Item.objects.all(), actor, Perm.CUSTODY_VIEW,
                               site_field=("site", "location_site"), **lookup)


def item_hold_set(*, actor, event: Event, item, reason: str,
                  act: Act | str | None = None) -> HoldRecord:
    """Put a surrendered item on legal hold for an allegation (IDDRS 6.40: what may be
    evidence is not destroyed). Custody's ``legal_hold_set`` blocks every disposition; it is
    given only the event's code, while the reason is kept here, encrypted.

    The hold names the act too (``act``: an act of ``event`` or its code), and the item is
    linked to that act; without ``act``, the one act of the event the item is linked to."""
    _edit(actor)
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", _("Say why the item must be kept."))
    if isinstance(act, str):
        code = act.strip().upper()
        act = Act.objects.filter(event=event, short_code=code).first() if code else None
        if code and act is None:
            raise _invalid("act_code", _("No act of this event has this code."))
    if act is not None and act.event_id != event.id:
        raise _invalid("act_code", _("No act of this event has this code."))
    item = _custody_item(actor, item)
    with transaction.atomic():
        if act is None:
            linked = list(Act.objects.filter(event=event, items__item=item)[:2])
            act = linked[0] if len(linked) == 1 else None
        else:
            act_item_link(actor=actor, act=act, item=item)
        hold = legal_hold_set(actor=actor, item=item,
                              reason=_("Accountability %(code)s") % {"code": event.short_code})
        record = HoldRecord.objects.create(event=event, act=act, hold=hold, reason=reason,
                                           created_by=actor)
        ledger_append(stream=f"event/{event.id}", kind="hold.set", actor=actor,
                      site=event.site, payload={"hold": hold.pk, "item": item.pk,
                                                "act": act.id if act else None})
    return record


def item_hold_lift(*, actor, record: HoldRecord) -> None:
    """Lift a hold this compartment set (custody's ``legal_hold_lift``)."""
    _edit(actor)
    with transaction.atomic():
        legal_hold_lift(actor=actor, hold=record.hold)
        ledger_append(stream=f"event/{record.event_id}", kind="hold.lifted", actor=actor,
                      site=record.event.site, payload={"hold": record.hold_id})


# --- sources -----------------------------------------------------------------------------

def source_create(*, actor, site: Site, name: str, kind: str, reliability: str = Reliability.F,
                  consent_recipients: list[str] | tuple = (), willing_to_testify=None,
                  contact: str = "", person=None) -> Source:
    """Record a source with its reliability and the recipients it consents to share with."""
    _edit(actor)
    name = (name or "").strip()
    if not name:
        raise _invalid("name", _("Name or describe the source."))
    if kind not in SourceKind.values:
        raise _invalid("kind", _("Choose a kind of source."))
    if reliability not in Reliability.values:
        raise _invalid("reliability", _("Choose a reliability."))
    unknown = set(consent_recipients) - set(RecipientKind.values)
    if unknown:
        raise _invalid("consent_recipients", _("Choose recipients from the list."))
    with transaction.atomic():
        source = Source.objects.create(
            site=site, short_code=short_code_next(site=site), name=name[:500], kind=kind,
            reliability=reliability, consent_recipients=sorted(set(consent_recipients)),
            willing_to_testify=willing_to_testify, contact=contact.strip(), person=person,
            created_by=actor)
        ledger_append(stream=f"source/{source.id}", kind="source.created", actor=actor,
                      site=site, payload={"source": source.id, "reliability": reliability,
                                          "consent": source.consent_recipients})
    return source


def information_add(*, actor, source: Source, event: Event, received_on: dt.date,
                    credibility: str = Credibility.C6, summary: str = "") -> Information:
    """Record what a source said about an event, rated for credibility on its own."""
    _edit(actor)
    if credibility not in Credibility.values:
        raise _invalid("credibility", _("Choose a credibility."))
    with transaction.atomic():
        info = Information.objects.create(source=source, event=event, received_on=received_on,
                                          credibility=credibility, summary=summary.strip())
        ledger_append(stream=f"event/{event.id}", kind="information.added", actor=actor,
                      site=event.site, payload={"source": source.id, "information": info.id,
                                                "credibility": credibility})
    return info


# --- evidence ----------------------------------------------------------------------------

def evidence_dir() -> Path:
    return Path(getattr(settings, "MAWA_EVIDENCE_DIR", None)
                or Path(settings.MEDIA_ROOT) / "evidence")


def _store_path(storage_name: str) -> Path:
    return evidence_dir() / storage_name[:2] / storage_name


def _store_write(item_id: uuid.UUID, data: bytes) -> tuple[str, str, str, int]:
    """Encrypt ``data`` with a new data key into the store; return (storage name, wrapped key,
    sha256, size). Written to a temporary name and renamed, then made read-only: the
    evidentiary original is never rewritten."""
    key = crypto.data_key_new()
    storage_name = secrets.token_hex(16)
    path = _store_path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        digest, size = crypto.file_encrypt(
            (data[i:i + crypto.CHUNK] for i in range(0, len(data), crypto.CHUNK)),
            out, key=key, item_id=str(item_id))
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o400)
    tmp.replace(path)
    return storage_name, crypto.data_key_wrap(key, item_id=str(item_id)), digest, size


def evidence_add(*, actor, event: Event, client_key, name: str, data: bytes, source=None,
                 description: str = "", captured_at=None, captured_place: str = "",
                 original_location: str = "", creator_willing_to_testify=None,
                 derived_from: EvidenceItem | None = None,
                 derivation: str = Derivation.ORIGINAL) -> EvidenceItem:
    """Take in a file as evidence: check it, hash it (SHA-256, on arrival), encrypt it into the
    store and open its chain of custody. A working copy names the item it was derived from
    (its lineage) and is recorded on both items' streams. Idempotent on ``client_key``.

    A refused file (bad name, wrong type for its extension, zip bomb…) is recorded on the
    ledger with the reason's code and nothing is stored.
    """
    _edit(actor)
    key = client_key_parse(client_key)
    existing = EvidenceItem.objects.filter(client_key=key).first()
    if existing:
        return existing
    try:
        ftype = intake.intake_check(name, data)
    except intake.IntakeRefused as exc:
        _refusal_record(actor=actor, action="evidence.refused", code=exc.code,
                        object_id=event.id)
        message = REFUSALS.get(exc.code, exc.message)
        raise ValidationFailed(message, code=f"evidence_{exc.code}", fields={"file": [message]})
    if (derived_from is None) != (derivation == Derivation.ORIGINAL):
        raise _invalid("derivation", _("A working copy names its original; an original does "
                                       "not."))
    if derivation not in Derivation.values:
        raise _invalid("derivation", _("Choose what kind of copy this is."))
    item_id = uuid7()
    # Encryption and the disk write happen before the transaction (slow work outside it); a
    # file whose row never commits is an orphan that the fixity check reports, never a loss.
    storage_name, wrapped, digest, size = _store_write(item_id, data)
    try:
        with transaction.atomic():
            item = EvidenceItem.objects.create(
                id=item_id, site=event.site, short_code=short_code_next(site=event.site),
                event=event, source=source, derived_from=derived_from, derivation=derivation,
                kind=ftype.kind, original_name=name, extension=ftype.extension,
                content_type=ftype.content_type, size=size, sha256=digest,
                description=description.strip(), captured_at=captured_at,
                captured_place=captured_place.strip(), original_location=original_location
                .strip(), creator_willing_to_testify=creator_willing_to_testify,
                storage_name=storage_name, wrapped_key=wrapped, client_key=key,
                created_by=actor)
            ledger_append(stream=item.stream, kind="evidence.received", actor=actor,
                          site=item.site, payload={
                              "evidence": item.id, "short_code": item.short_code,
                              "sha256": digest, "size": size, "type": ftype.extension,
                              "derivation": derivation,
                              "derived_from": derived_from.id if derived_from else None})
            if derived_from is not None:
                ledger_append(stream=derived_from.stream, kind="evidence.copied", actor=actor,
                              site=item.site, payload={"evidence": derived_from.id,
                                                       "copy": item.id,
                                                       "derivation": derivation})
            ledger_append(stream=f"event/{event.id}", kind="evidence.attached", actor=actor,
                          site=event.site, payload={"evidence": item.id, "sha256": digest})
    except IntegrityError:
        _store_discard(storage_name)
        existing = EvidenceItem.objects.filter(client_key=key).first()
        if existing:
            return existing
        raise
    except Exception:
        _store_discard(storage_name)
        raise
    return item


def _store_discard(storage_name: str) -> None:
    path = _store_path(storage_name)
    if path.exists():
        os.chmod(path, 0o600)
        path.unlink()


def _plaintext(item: EvidenceItem) -> Iterator[bytes]:
    key = crypto.data_key_unwrap(item.wrapped_key, item_id=str(item.id))
    return crypto.file_decrypt(_store_path(item.storage_name), key=key, item_id=str(item.id))


def evidence_read(*, actor, item: EvidenceItem, purpose: str = "download") -> bytes:
    """Decrypt an evidence file for ``actor`` and record the view or download on its chain of
    custody first: if the entry cannot be written, nothing is returned (fail closed).
    The plaintext is checked against the intake hash before it is handed out."""
    access.require(actor, Perm.COMPARTMENT_VIEW)
    if purpose not in ("view", "download"):
        raise _invalid("purpose", _("Unknown purpose."))
    with transaction.atomic():
        ledger_append(stream=item.stream, kind=f"evidence.{purpose}", actor=actor,
                      site=item.site, payload={"evidence": item.id,
                                               "via": _via(actor)})
    data = evidence_plaintext(item)
    return data


def evidence_plaintext(item: EvidenceItem) -> bytes:
    """The verified plaintext (no access check, no ledger entry: callers do both)."""
    import hashlib

    try:
        data = b"".join(_plaintext(item))
    except FileNotFoundError:
        raise crypto.FileCorrupt()
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise crypto.FileCorrupt()
    return data


def _via(actor) -> str:
    return "role" if getattr(actor, "role", None) == Role.INVESTIGATOR else "break_glass"


def evidence_handover(*, actor, item: EvidenceItem, to: str, note: str = "") -> None:
    """Record a handover of the physical or digital original to a named person or body
    (Berkeley Protocol: every handover on the chain of custody). The name is kept as a hash in
    the ledger and in clear nowhere but the encrypted note of the entry's row."""
    import hashlib

    _edit(actor)
    to = (to or "").strip()
    if not to:
        raise _invalid("to", _("Name who received it."))
    with transaction.atomic():
        ledger_append(stream=item.stream, kind="evidence.handover", actor=actor, site=item.site,
                      payload={"evidence": item.id,
                               "to_sha256": hashlib.sha256(to.encode()).hexdigest(),
                               "sha256": item.sha256})


def evidence_fixity_check(*, actor="system:fixity") -> list[dict]:
    """Re-hash every stored evidence file and compare with its intake hash. Each result is on
    the item's chain of custody; a mismatch keeps the file (nothing is deleted) and is reported.
    Results: ``ok``, ``missing`` (no file in the store), ``mismatch`` (the bytes differ),
    ``key_error`` (the compartment key does not open it), ``orphan`` (a file without an item).
    """
    results = []
    for item in EvidenceItem.objects.order_by("id").iterator():
        ok, reason = True, "ok"
        try:
            if not _store_path(item.storage_name).is_file():
                ok, reason = False, "missing"  # not in the store: nothing to compare
            else:
                evidence_plaintext(item)
        except crypto.FileCorrupt:
            ok, reason = False, "mismatch"
        except crypto.CompartmentKeyError:
            ok, reason = False, "key_error"
        now = timezone.now()
        with transaction.atomic():
            EvidenceItem.objects.filter(pk=item.pk).update(fixity_checked_at=now, fixity_ok=ok)
            ledger_append(stream=item.stream, kind="evidence.fixity", actor=actor,
                          site=item.site, payload={"evidence": item.id, "sha256": item.sha256,
                                                   "result": reason})
        results.append({"evidence": str(item.id), "code": item.short_code, "ok": ok,
                        "result": reason})
    known = set(EvidenceItem.objects.values_list("storage_name", flat=True))
    if evidence_dir().exists():
        for path in sorted(evidence_dir().glob("*/*")):
            if path.name not in known:
                results.append({"evidence": "", "code": path.name, "ok": False,
                                "result": "orphan"})
    return results


# --- referrals ---------------------------------------------------------------------------

def referral_create(*, actor, event: Event, client_key, recipient_kind: str,
                    recipient_name: str, purpose: str, evidence: list[EvidenceItem]) -> Referral:
    """Propose a referral; it waits for a second investigator's approval."""
    _edit(actor)
    key = client_key_parse(client_key)
    existing = Referral.objects.filter(client_key=key).first()
    if existing:
        return existing
    if recipient_kind not in RecipientKind.values:
        raise _invalid("recipient_kind", _("Choose a kind of recipient."))
    if not (recipient_name or "").strip():
        raise _invalid("recipient_name", _("Name the recipient."))
    if not (purpose or "").strip():
        raise _invalid("purpose", _("State the purpose of the referral."))
    if any(e.event_id != event.id for e in evidence):
        raise _invalid("evidence", _("Choose evidence of this event."))
    with transaction.atomic():
        referral = Referral.objects.create(
            site=event.site, short_code=short_code_next(site=event.site), event=event,
            recipient_kind=recipient_kind, recipient_name=recipient_name.strip()[:200],
            purpose=purpose.strip(), requested_by=actor, client_key=key)
        referral.evidence.set(evidence)
        ledger_append(stream=referral.stream, kind="referral.created", actor=actor,
                      site=event.site, payload={
                          "referral": referral.id, "event": event.id,
                          "recipient_kind": recipient_kind,
                          "evidence": sorted(str(e.id) for e in evidence)})
    return referral


def referral_approve(*, actor, referral: Referral) -> Referral:
    """Approve a referral: the second person of the two-person rule, never its requester."""
    _edit(actor)
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.requested_by_id == actor.pk:
            ledger_append(stream=locked.stream, kind="referral.approval_refused", actor=actor,
                          site=locked.site, payload={"referral": locked.id,
                                                     "reason": "same_person"})
            refused = True
        elif locked.status != ReferralStatus.PENDING:
            raise Conflict(_("This referral is already approved."), code="already_approved")
        else:
            refused = False
            locked.status, locked.approved_by = ReferralStatus.APPROVED, actor
            locked.approved_at = timezone.now()
            locked.save(update_fields=["status", "approved_by", "approved_at"])
            ledger_append(stream=locked.stream, kind="referral.approved", actor=actor,
                          site=locked.site, payload={"referral": locked.id})
    if refused:
        raise Forbidden(_("A referral is approved by a second investigator, not by the one who "
                          "made it."), code="two_person_rule")
    return locked


def referral_consent_blockers(referral: Referral) -> list[Source]:
    """Sources of the referral's material whose consent does not cover its recipient."""
    sources = {e.source for e in referral.evidence.select_related("source") if e.source}
    sources |= {i.source for i in Information.objects.filter(event=referral.event)
                .select_related("source")}
    return sorted((s for s in sources if not s.consents_to(referral.recipient_kind)),
                  key=lambda s: s.short_code)


def referral_export(*, actor, referral: Referral) -> bytes:
    """Build the signed, court-ready bundle of an approved referral and record the export.

    Refused (and the attempt recorded) without a second approval or when a source's consent
    excludes the recipient (IIIM practice: nothing outside the source's informed consent).
    The bundle is built inside the transaction on purpose: the export entry, the checkpoints it
    carries and the bundle describe the same moment, and nothing leaves without its entry.
    """
    from mawa.accountability import bundle

    _edit(actor)
    referral = Referral.objects.select_related("event").get(pk=referral.pk)
    if referral.status == ReferralStatus.PENDING or referral.approved_by_id is None:
        with transaction.atomic():
            ledger_append(stream=referral.stream, kind="referral.export_refused", actor=actor,
                          site=referral.site, payload={"referral": referral.id,
                                                       "reason": "not_approved"})
        raise Conflict(_("This referral has no second approval yet; nothing was exported."),
                       code="not_approved")
    blockers = referral_consent_blockers(referral)
    if blockers:
        with transaction.atomic():
            ledger_append(stream=referral.stream, kind="referral.export_refused", actor=actor,
                          site=referral.site, payload={
                              "referral": referral.id, "reason": "consent_excluded",
                              "sources": [str(s.id) for s in blockers]})
        raise Conflict(_("The consent of source %(codes)s does not cover this recipient; "
                         "nothing was exported.")
                       % {"codes": ", ".join(s.short_code for s in blockers)},
                       code="consent_excluded")
    with transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.EXPORTED,
                                                       exports=referral.exports + 1)
        items = list(referral.evidence.order_by("id"))
        for item in items:
            ledger_append(stream=item.stream, kind="evidence.exported", actor=actor,
                          site=item.site, payload={"evidence": item.id, "referral": referral.id,
                                                   "sha256": item.sha256})
        ledger_append(stream=referral.stream, kind="referral.exported", actor=actor,
                      site=referral.site, payload={
                          "referral": referral.id, "recipient_kind": referral.recipient_kind,
                          "evidence": {str(i.id): i.sha256 for i in items}})
        data = bundle.bundle_build(referral=referral, items=items)
    return data


# --- break-glass -------------------------------------------------------------------------

def break_glass_open(*, actor, reason: str, minutes: int = 60, site=None) -> BreakGlassGrant:
    """Give an administrator read access to the compartment for at most three hours, for a
    stated reason (protection.md R4). The grant is on the ledger and shown to investigators."""
    access.require(actor, Perm.USER_MANAGE)
    if actor.role != Role.ADMINISTRATOR:
        raise Forbidden()
    reason = (reason or "").strip()
    if len(reason) < BREAK_GLASS_REASON_MIN:
        _refusal_record(actor=actor, action="break_glass.refused", code="no_reason")
        raise _invalid("reason", _("State the reason in at least %(n)d characters.")
                       % {"n": BREAK_GLASS_REASON_MIN})
    duration = dt.timedelta(minutes=int(minutes))
    if duration <= dt.timedelta(0) or duration > BREAK_GLASS_MAX:
        raise _invalid("minutes", _("Access lasts between 1 minute and 3 hours."))
    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(user=actor, site=site, reason=reason,
                                               opened_at=now, expires_at=now + duration)
        ledger_append(stream="break-glass", kind="break_glass.opened", actor=actor, site=site,
                      payload={"grant": grant.id, "user": actor.pk,
                               "expires_at": grant.expires_at})
        audit(actor=actor, action="break_glass.opened", model="accountability.breakglassgrant",
              object_id=grant.id)
    return grant


def break_glass_close(*, actor, grant: BreakGlassGrant) -> None:
    """End a grant early (its holder, or an investigator reviewing it)."""
    if grant.user_id != getattr(actor, "pk", None):
        _edit(actor)
    with transaction.atomic():
        BreakGlassGrant.objects.filter(pk=grant.pk, closed_at__isnull=True).update(
            closed_at=timezone.now())
        ledger_append(stream="break-glass", kind="break_glass.closed", actor=actor,
                      payload={"grant": grant.id})
