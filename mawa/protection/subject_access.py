"""The subject access report (protection.md R8; UNHCR data-protection policy §2.3, ICRC handbook
ch. 2.11): everything Mawa holds about one person, outside the accountability compartment.

One selector, ``subject_access_report``, reads every table that links to a person — the
reception record and each of its fields, aliases, documents, the lifecycle history and the
person's ledger stream, corrections (the prior values), ID cards printed, the ICRC notification
status, custody receipts and the items on them, camp assignments, movements, roll-call findings,
distributions, incidents, duplicate suggestions and merges — and returns it as plain sections of
text that the page and the PDF render alike.

Deliberately left out (the compartment, protection.md R1): allegations, involvements, sources,
evidence, referrals, watch-list hits and legal holds. This module never imports
``mawa.accountability`` and never reads ``MatchPair`` rows of kind ``watchlist`` nor the
``on_hold`` flag of an item: a report that the subject may be shown must not tell a perpetrator
that an allegation exists. Incidents of a sensitive type appear only for a reader with
``Perm.INCIDENT_SENSITIVE_VIEW`` at the incident's site, and otherwise leave no trace (no count,
no placeholder).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.models import User
from mawa.accounts.roles import Perm
from mawa.camp.models import Assignment, Distribution, Incident, Movement, RollCallLine
from mawa.core import exports
from mawa.core.audit import audit
from mawa.core.models import LedgerEntry
from mawa.core.pdf import render_pdf
from mawa.custody.models import Item, Receipt
from mawa.matching.models import MatchPair, PairKind, PersonMerge
from mawa.reception.icrc import NOTIFIED_STATUSES
from mawa.reception.models import Person, Vulnerability
from mawa.reception.selectors import PERSON_SITES, person_documents, person_visible_fields

__all__ = ["Section", "SubjectAccessReport", "subject_access_person", "subject_access_report",
           "subject_access_pdf_export"]


@dataclass
class Section:
    """One part of the report: a title, column labels and rows of display text."""

    key: str
    title: object
    columns: list = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class SubjectAccessReport:
    person: object
    generated_at: dt.datetime
    fields: list[tuple[object, str]]
    sections: list[Section]

    @property
    def text(self) -> str:
        """Every value of the report as one text (for tests and for searching the PDF)."""
        parts = [f"{label}: {value}" for label, value in self.fields]
        for s in self.sections:
            parts.append(str(s.title))
            parts.extend(" | ".join(row) for row in s.rows)
        return "\n".join(parts)


_LEDGER_KINDS = {
    "person.registered": _("Registered"),
    "person.corrected": _("Corrected"),
    "person.transition": _("Status changed"),
    "person.categorised": _("Category changed"),
    "person.icrc_withheld": _("ICRC notification: withheld or included again"),
    "person.merged_into": _("Merged into another record"),
    "person.merged_from": _("Another record merged into this one"),
}

_SKIPPED_FIELDS = {"content_hash", "client_key"}


def _when(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _who(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, (dt.date, dt.datetime)):
        return _when(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _field_value(person, f) -> str:
    if f.name == "photo":
        return _text(bool(person.photo))
    if f.name == "vulnerabilities":
        labels = dict(Vulnerability.choices)
        return ", ".join(str(labels.get(v, v)) for v in person.vulnerabilities or [])
    if f.is_relation:
        target = getattr(person, f.name)
        if target is None:
            return ""
        if f.name == "registered_by":
            return _who(target)
        return str(getattr(target, "code", None) or getattr(target, "short_code", target))
    if f.choices:
        return str(getattr(person, f"get_{f.name}_display")())
    return _text(getattr(person, f.attname))


def _user_names(ids) -> dict[str, str]:
    ids = {i for i in ids if i and len(i) == 36}
    return {str(u.pk): _who(u) for u in User.objects.filter(pk__in=ids)}


# --- the parts -----------------------------------------------------------------------------

def _record(user, person) -> tuple[list, list[Section]]:
    visible = person_visible_fields(user=user, person=person)
    labels = {f.name: f.verbose_name for f in Person._meta.concrete_fields}
    fields = [(_("Mawa code"), person.short_code)]  # the code names the record; no raw id
    for f in Person._meta.concrete_fields:
        if f.name in _SKIPPED_FIELDS or f.name in ("id", "short_code") or f.name not in visible:
            continue
        fields.append((f.verbose_name, _field_value(person, f)))
    fields.append((_("Date of birth"), person.birth_display))

    aliases = Section("aliases", _("Aliases"), [_("Arabic"), _("Latin")],
                      [[a.name_ar, a.name_lat] for a in person.aliases.all()])
    documents = Section("documents", _("Identity documents"),
                        [_("Kind"), _("Number"), _("Issued by"), _("Expiry date"), _("Scan")],
                        [[d.get_kind_display(), d.number, d.issuer, _when(d.expiry),
                          _text(bool(d.scan))] for d in person_documents(user=user,
                                                                         person=person)])
    history = Section("lifecycle", _("Lifecycle history"),
                      [_("When"), _("From"), _("To"), _("Site"), _("By"), _("Note")],
                      [[_when(e.at), e.get_from_status_display() if e.from_status else "",
                        e.get_to_status_display(), e.site.code, _who(e.actor), e.note]
                       for e in person.events.select_related("actor", "site").order_by("at",
                                                                                       "id")])
    revisions = Section("revisions", _("Corrections: the values replaced"),
                        [_("Version"), _("When"), _("By"), _("Prior values")], [])
    for r in person.revisions.select_related("actor").order_by("version"):
        prior = "; ".join(f"{labels.get(k, k)}: {_text(v)}" for k, v in sorted(r.prior.items())
                          if k in visible)
        revisions.rows.append([str(r.version), _when(r.at), _who(r.actor), prior])

    entries = list(LedgerEntry.objects.filter(stream=f"person/{person.pk}").order_by("seq"))
    names = _user_names(e.actor for e in entries)
    ledger = Section("ledger", _("Record history (ledger)"),
                     [_("Entry"), _("When"), _("What"), _("Site"), _("By")],
                     [[str(e.seq), e.ts[:16].replace("T", " "),
                       str(_LEDGER_KINDS.get(e.kind, e.kind)), e.site,
                       names.get(e.actor, e.actor)] for e in entries])
    return fields, [aliases, documents, history, revisions, ledger]


def _documents_issued(person) -> list[Section]:
    # ID cards are recorded only on the audit stream (one entry per person and print); the
    # canonical JSON of the payload has no spaces, so the id is matched exactly.
    prints = list(LedgerEntry.objects.filter(
        stream="audit", kind="audit.idcard.print",
        payload__contains=f'"object_id":"{person.pk}"').order_by("seq"))
    names = _user_names(e.actor for e in prints)
    cards = Section("idcards", _("ID cards printed"), [_("When"), _("Site"), _("By")],
                    [[e.ts[:16].replace("T", " "), e.site, names.get(e.actor, e.actor)]
                     for e in prints])
    if person.icrc_withheld:
        state = _("Withheld from the notification")
    elif person.status in NOTIFIED_STATUSES:
        state = _("Included in the notification to the ICRC")
    else:
        state = _("Not notified (status not notified)")
    icrc = Section("icrc", _("ICRC internment notification"), [_("State"), _("Reason")],
                   [[str(state), person.icrc_withheld_reason]])
    return [cards, icrc]


def _custody(person) -> list[Section]:
    bearer = Q(person=person)
    if person.group_id:
        bearer |= Q(group_id=person.group_id, person__isnull=True)
    receipts = list(Receipt.objects.filter(bearer).select_related("site", "received_by",
                                                                  "group").order_by("id"))
    receipt_rows = [[r.short_code, r.site.code, _when(r.created_at),
                     str(_("this person")) if r.person_id else
                     str(_("arrival group %(code)s") % {"code": r.group.short_code}),
                     r.get_status_display(), _when(r.issued_at), _who(r.received_by),
                     r.witness] for r in receipts]
    # on_hold is never read here: a legal hold belongs to the compartment's story
    items = (Item.objects.filter(receipt__in=[r.pk for r in receipts])
             .select_related("receipt").order_by("id"))
    item_rows = [[i.short_code, i.get_kind_display(), i.title, i.serial_number,
                  str(i.quantity), i.get_condition_display(), i.get_state_display(),
                  i.receipt.short_code] for i in items]
    return [
        Section("receipts", _("Custody receipts"),
                [_("Receipt"), _("Site"), _("Opened"), _("Surrendered by"), _("Status"),
                 _("Issued"), _("Received by"), _("Witness")], receipt_rows),
        Section("items", _("Items surrendered"),
                [_("Tag"), _("Kind"), _("Item"), _("Serial number"), _("Quantity"),
                 _("Condition at surrender"), _("State"), _("Receipt")], item_rows),
    ]


def _camp(user, person) -> list[Section]:
    assignments = Assignment.objects.filter(person=person).select_related(
        "site", "shelter", "block", "checked_in_by").order_by("start_at")
    movements = Movement.objects.filter(person=person).select_related("site").order_by("out_at")
    findings = RollCallLine.objects.filter(person=person).select_related(
        "roll_call__block", "roll_call__site").order_by("roll_call__day")
    given = Distribution.objects.filter(person=person).select_related("item", "site").order_by(
        "at")
    incidents = []
    for inc in (Incident.objects.filter(persons=person).select_related("site", "block")
                .prefetch_related("follow_ups").order_by("occurred_at")):
        # need-to-know (ICRC handbook): sensitive types exist only for those allowed to see them
        if inc.is_sensitive and not access.can(user, Perm.INCIDENT_SENSITIVE_VIEW, inc.site):
            continue
        incidents.append([inc.short_code, inc.site.code, inc.get_kind_display(),
                          inc.get_severity_display(), _when(inc.occurred_at), inc.summary,
                          "; ".join(f.note for f in inc.follow_ups.all()),
                          _text(inc.is_closed)])
    return [
        Section("assignments", _("Camp assignments"),
                [_("Site"), _("Block"), _("Shelter"), _("Checked in"), _("Checked out"),
                 _("Reason"), _("Reason for leaving")],
                [[a.site.code, a.block.name, a.shelter.name, _when(a.start_at),
                  _when(a.end_at), a.reason, a.end_reason] for a in assignments]),
        Section("movements", _("Movements"),
                [_("Code"), _("Kind"), _("Left at"), _("Due back"), _("Returned at"),
                 _("Destination"), _("Note")],
                [[m.short_code, m.get_kind_display(), _when(m.out_at), _when(m.due_back_at),
                  _when(m.returned_at), m.destination, m.note] for m in movements]),
        Section("rollcalls", _("Roll-call findings"),
                [_("Roll call"), _("Day"), _("Block"), _("Finding"), _("Roll-call status"),
                 _("Resolution")],
                [[f.roll_call.short_code, _when(f.roll_call.day), f.roll_call.block.name,
                  f.get_finding_display(), f.roll_call.get_status_display(),
                  f.roll_call.resolution] for f in findings]),
        Section("distributions", _("Distributions received"),
                [_("When"), _("Site"), _("Item"), _("Quantity")],
                [[_when(d.at), d.site.code, d.item.name, str(d.quantity)] for d in given]),
        Section("incidents", _("Incidents involving the person"),
                [_("Code"), _("Site"), _("Type"), _("Severity"), _("Occurred at"),
                 _("What happened"), _("Follow-ups"), _("Closed")], incidents),
    ]


def _matching(person) -> list[Section]:
    # duplicates only: a watch-list hit is the compartment's (protection.md R1)
    pairs = (MatchPair.objects.filter(kind=PairKind.DUPLICATE)
             .filter(Q(person_a=person) | Q(person_b=person))
             .select_related("person_a", "person_b", "decided_by").order_by("found_at"))
    merges = (PersonMerge.objects.filter(Q(duplicate=person) | Q(survivor=person))
              .select_related("duplicate", "survivor", "actor", "site").order_by("at"))
    return [
        Section("matches", _("Possible duplicates and decisions"),
                [_("Other record"), _("Found"), _("Probability"), _("Decision"),
                 _("Decided at"), _("Decided by"), _("Reason")],
                [[(p.person_b if p.person_a_id == person.pk else p.person_a).short_code,
                  _when(p.found_at), f"{p.probability:.2f}",
                  p.get_decision_display() if p.decision else str(_("not decided")),
                  _when(p.decided_at), _who(p.decided_by), p.decision_reason] for p in pairs]),
        Section("merges", _("Merges"),
                [_("Duplicate record"), _("Kept record"), _("When"), _("Site"), _("By")],
                [[m.duplicate.short_code, m.survivor.short_code, _when(m.at), m.site.code,
                  _who(m.actor)] for m in merges]),
    ]


# --- the selector ----------------------------------------------------------------------------

def subject_access_person(*, user, person_id):
    """Load the person for a subject access report: ``Perm.PROTECTION_ACT`` at one of the
    person's sites. Missing, another site's and not allowed answer the same ``NotFound``."""
    return access.get_for_user(
        Person.objects.select_related("site", "current_site", "group", "registered_by"),
        user, Perm.PROTECTION_ACT, site_field=PERSON_SITES, id=person_id)


def subject_access_report(*, user, person_id, audited: bool = True) -> SubjectAccessReport:
    """Everything held about one person outside the compartment (see the module docstring).

    The read is on the audit stream (one entry, the person's id, no values). The PDF passes
    ``audited=False`` because its export entry (``core.exports``) records the same read, so a
    report leaves exactly one entry either way (attack test 13)."""
    person = subject_access_person(user=user, person_id=person_id)
    fields, sections = _record(user, person)
    sections += _documents_issued(person)
    sections += _custody(person)
    sections += _camp(user, person)
    sections += _matching(person)
    if audited:
        with transaction.atomic():
            audit(actor=user, action="subject_access", obj=person)
    return SubjectAccessReport(person=person, generated_at=timezone.now(), fields=fields,
                               sections=sections)


def subject_access_pdf_export(*, user, person_id, purpose: str, recipient: str):
    """The report as a PDF inside an encrypted, recorded, short-lived export
    (``core.exports`` kind ``subject_access_pdf``)."""
    person = subject_access_person(user=user, person_id=person_id)
    # the person is in scope through one of their two sites; check the export there
    site = person.current_site if access.in_scope(user, person.current_site) else person.site
    exports.export_check(user=user, kind="subject_access_pdf", purpose=purpose,
                         recipient=recipient, site=site)
    report = subject_access_report(user=user, person_id=person.pk, audited=False)
    # slow: rendered outside any transaction
    data = render_pdf("protection/subject_access_pdf.html", {"report": report})
    return exports.export_create(
        user=user, kind="subject_access_pdf", purpose=purpose, recipient=recipient,
        site=site, write=lambda fh: fh.write(data),
        detail={"person": str(person.pk)}, stamp=person.short_code)
