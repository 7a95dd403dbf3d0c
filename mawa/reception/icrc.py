"""ICRC notification of internment (Geneva Convention III arts. 70, 122–123, applied to
neutral internment by Hague Convention V art. 11 and GC III art. 4(B)(2)).

For each interned person the Detaining Power tells the ICRC Central Tracing Agency what it needs
to inform the family: names (with the father's), date and place of birth, rank and service
number, where and since when the person is held, state of health, and whom to notify.

A protection officer may withhold a person from the notification — e.g. when telling the
family would expose them to reprisals — with a recorded reason (``person_icrc_withhold``). The
reason stays in the register; the ledger records that the flag changed, never why.
Every notification produced (CSV or PDF) is audited with its count, never its content.

Notifications follow the people (GC III arts. 122–123: the Detaining Power informs of
captures, and then of every change — transfers, releases, repatriations, escapes,
admissions to hospital, deaths). Each list sent is recorded on the ledger (stream
``icrc/<site code or ALL>``, kind ``icrc.list_sent``: who was on it with the status notified,
when, by whom, to whom), and the next list holds only what changed since: new internees, and
those whose status changed (transferred, hospitalised, released, deceased, escaped …). A
withheld person is left out until the protection officer lifts the withholding; then he
appears on the next list. ``full=True`` gives everyone notifiable, as the first list does.
"""

from __future__ import annotations

import csv
import io
import json

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import export_jobs, exports
from mawa.core.audit import audit, audit_change
from mawa.core.changes import ChangeItem, change_record_many
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.ledger import ledger_append
from mawa.core.models import LedgerEntry
from mawa.core.pdf import render_pdf_chunked
from mawa.reception.models import Person, Status

# Persons in the Detaining Power's hands: notified while interned, also when hospitalised,
# detained or between camps.
NOTIFIED_STATUSES = (Status.INTERNED, Status.HOSPITALISED, Status.DETAINED, Status.TRANSFERRED)

COLUMNS = [
    ("short_code", _lazy("Mawa code")),
    ("family_ar", _lazy("Family name (Arabic)")), ("family_lat", _lazy("Family name (Latin)")),
    ("given_ar", _lazy("Given name (Arabic)")), ("given_lat", _lazy("Given name (Latin)")),
    ("father_ar", _lazy("Father's name (Arabic)")), ("father_lat", _lazy("Father's name (Latin)")),
    ("grandfather_ar", _lazy("Grandfather's name (Arabic)")),
    ("mother_ar", _lazy("Mother's name (Arabic)")), ("mother_lat", _lazy("Mother's name (Latin)")),
    ("sex", _lazy("Sex")), ("birth", _lazy("Date of birth")),
    ("place_of_birth", _lazy("Place of birth")), ("nationality", _lazy("Nationality")),
    ("rank", _lazy("Rank")), ("service_number", _lazy("Service number")),
    ("unit", _lazy("Unit")), ("interned_on", _lazy("Interned on")),
    ("held_at", _lazy("Held at")), ("status", _lazy("Status")),
    ("health", _lazy("State of health")),
    ("contact_name", _lazy("Family contact")), ("contact_relation", _lazy("Relationship")),
    ("contact_phone", _lazy("Telephone")), ("contact_address", _lazy("Address")),
    ("change", _lazy("Change since the last notification")),
]

ICRC_JOB_KIND = "icrc_notification"  # the background job that writes a list (core.jobs)
ICRC_PDF_CHUNK = 200  # persons per WeasyPrint document of a long list (core.pdf)
_CSV_BATCH = 1000  # rows between two progress reports of the CSV


def person_icrc_withhold(*, actor, person: Person, withheld: bool, reason: str = "") -> Person:
    """Set or lift the protection flag that withholds ``person`` from ICRC notifications.
    Only ``Perm.PROTECTION_ACT`` at the person's current site; withholding needs a reason."""
    access.require(actor, Perm.PROTECTION_ACT, person.current_site)
    reason = (reason or "").strip()
    if withheld and not reason:
        raise ValidationFailed(_lazy("Check the highlighted fields."), fields={
            "reason": [_lazy("Give the reason for withholding this person.")]})
    if len(reason) > 2000:
        raise ValidationFailed(_lazy("Check the highlighted fields."), fields={
            "reason": [_lazy("At most %(n)s characters.") % {"n": 2000}]})
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        locked.icrc_withheld = withheld
        locked.icrc_withheld_reason = reason if withheld else ""
        locked.version += 1
        locked.save(update_fields=["icrc_withheld", "icrc_withheld_reason", "version",
                                   "updated_at"])
        ledger_append(stream=f"person/{locked.id}", kind="person.icrc_withheld", actor=actor,
                      site=locked.current_site,
                      payload={"person": locked.id, "withheld": withheld,
                               "version": locked.version})
        audit_change(actor=actor, obj=locked, fields=["icrc_withheld", "icrc_withheld_reason"])
        # headquarters sends the lists: the flag travels (``reception.sync``)
        change_record_many([ChangeItem("reception.person", locked.id, ChangeOp.ACTION, {
            "action": "icrc_withhold", "withheld": withheld, "reason": reason})],
            actor=actor, site=locked.current_site)
    return locked


def _notifiable(user, site=None):
    from mawa.reception.selectors import persons_visible

    qs = persons_visible(user=user).filter(status__in=NOTIFIED_STATUSES, icrc_withheld=False)
    if site is not None:
        qs = qs.filter(current_site=site)
    return qs


def _stream(site) -> str:
    return f"icrc/{site.code if site is not None else 'ALL'}"


def icrc_last_list(*, site=None) -> dict:
    """The last list sent for ``site`` (None: every site): {"at", "recipient", "notified":
    {person id: status notified}} (everyone notified so far, with the last status they were
    notified with), or an empty dict when none was sent."""
    entry = LedgerEntry.objects.filter(stream=_stream(site), kind="icrc.list_sent") \
        .order_by("-seq").first()
    if entry is None:
        return {}
    payload = json.loads(entry.payload)
    return {"at": entry.ts, "recipient": payload.get("recipient", ""),
            "notified": payload.get("notified", {})}


def icrc_notification_rows(*, user, site=None, full: bool = False) -> tuple[list[dict], int]:
    """The notification rows ``user`` may produce, and how many persons were withheld: what
    changed since the last list sent (``full``: everyone notifiable). Requires
    ``Perm.PROTECTION_ACT``; audited as an export (count only)."""
    access.require(user, Perm.PROTECTION_ACT, site)
    from mawa.reception.selectors import persons_visible

    notified = {} if full else icrc_last_list(site=site).get("notified", {})
    qs = _notifiable(user, site)
    if notified:
        # those who left the Detaining Power's camps since (released, repatriated, asylum,
        # escaped, deceased) are a change the family must hear of too
        left = persons_visible(user=user).filter(
            pk__in=list(notified), icrc_withheld=False).exclude(status__in=NOTIFIED_STATUSES)
        if site is not None:
            left = left.filter(Q(current_site=site) | Q(site=site))
        qs = qs | left
    qs = qs.select_related("current_site").annotate(
        interned_on=Min("events__at", filter=Q(events__to_status=Status.INTERNED))
    ).order_by("short_code")
    withheld = persons_visible(user=user).filter(status__in=NOTIFIED_STATUSES,
                                                 icrc_withheld=True)
    if site is not None:
        withheld = withheld.filter(current_site=site)
    rows = []
    for p in qs:
        before = notified.get(str(p.pk))
        if before == p.status:
            continue  # nothing changed since he was notified
        row = _row(p)
        row["change"] = str(_("New")) if before is None else _("Was: %(status)s") % {
            "status": Status(before).label if before in Status.values else before}
        rows.append(row)
    n_withheld = withheld.count()
    with transaction.atomic():
        audit(actor=user, action="export", model="reception.person",
              detail={"export": "icrc_notification", "rows": len(rows),
                      "withheld": n_withheld})
    return rows, n_withheld


def _list_record(*, user, site, rows: list[dict], recipient: str) -> None:
    """Record the list sent: who was on it (with the status notified), when, to whom."""
    codes = [r["short_code"] for r in rows]
    sent = dict(Person.objects.filter(short_code__in=codes).values_list("id", "status"))
    notified = dict(icrc_last_list(site=site).get("notified", {}))
    notified.update({str(pid): status for pid, status in sent.items()})
    ledger_append(stream=_stream(site), kind="icrc.list_sent", actor=user, site=site,
                  payload={"recipient": recipient[:200], "on_list": sorted(map(str, sent)),
                           "notified": notified})


def _row(p: Person) -> dict:
    from mawa.reception.models import Vulnerability

    vulns = [str(Vulnerability(v).label) for v in p.vulnerabilities
             if v in Vulnerability.values and v in ("wounded", "sick", "disabled", "chronic")]
    return {
        "short_code": p.short_code, "family_ar": p.family_ar, "family_lat": p.family_lat,
        "given_ar": p.given_ar, "given_lat": p.given_lat, "father_ar": p.father_ar,
        "father_lat": p.father_lat, "grandfather_ar": p.grandfather_ar,
        "mother_ar": " ".join(x for x in (p.mother_given_ar, p.mother_family_ar) if x),
        "mother_lat": " ".join(x for x in (p.mother_given_lat, p.mother_family_lat) if x),
        "sex": str(p.get_sex_display()), "birth": p.birth_display,
        "place_of_birth": p.place_of_birth, "nationality": p.nationality, "rank": p.rank,
        "service_number": p.service_number, "unit": p.unit,
        "interned_on": timezone.localtime(p.interned_on).date().isoformat()
        if getattr(p, "interned_on", None) else "",
        "held_at": p.current_site.name, "status": str(p.get_status_display()),
        "health": ", ".join(vulns) or _("No known condition"),
        "contact_name": p.family_contact_name, "contact_relation": p.family_contact_relation,
        "contact_phone": p.family_contact_phone, "contact_address": p.family_contact_address,
        "change": "",
    }


def icrc_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows the Arabic correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(label) for _key, label in COLUMNS])
    for r in rows:
        writer.writerow([_safe_cell(r[key]) for key, _label in COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def icrc_pdf(rows: list[dict], *, withheld: int, progress=None) -> bytes:
    """The notification as a PDF list (slow: call outside transactions), rendered in chunks of
    ``ICRC_PDF_CHUNK`` persons joined into one PDF (``core.pdf.render_pdf_chunked``), so the
    time per person does not grow with the list; the heading and the count are on the first
    page only, each chunk's pages say which persons they hold."""
    total = len(rows)
    starts = {id(rows[i]): i for i in range(0, total, ICRC_PDF_CHUNK)}

    def chunk_context(part) -> dict:
        first = starts.get(id(part[0]), 0) if part else 0
        return {"continued": first > 0, "first_no": first + 1,
                "last_no": first + len(part), "chunked": total > ICRC_PDF_CHUNK}

    return render_pdf_chunked("reception/icrc_notification.html", rows, {
        "withheld": withheld, "columns": COLUMNS, "generated": timezone.now(), "count": total},
        chunk=ICRC_PDF_CHUNK, items_name="rows", progress=progress,
        chunk_context=chunk_context)


def _safe_cell(value) -> str:
    """Neutralise spreadsheet formulas (CSV injection: a cell starting with = + - @ runs as a
    formula in Excel). Telephone numbers keep their leading +."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "-", "@", "\t", "\r") or (text[:1] == "+" and not text[1:].replace(
            " ", "").isdigit()):
        return "'" + text
    return text


def icrc_notification_export(*, user, fmt: str, purpose: str, recipient: str, site=None,
                             full: bool = False):
    """The notification as an encrypted, recorded, short-lived export (``core.exports``),
    made on the request: what changed since the last list sent (``full``: everyone
    notifiable); the list is recorded as sent (``icrc_last_list``) in the transaction of the
    export's ledger entry. The pages start a job instead (``icrc_notification_job_start``),
    which does the same work."""
    kind = _export_kind(fmt)
    exports.export_check(user=user, kind=kind, purpose=purpose, recipient=recipient, site=site)
    rows, withheld = icrc_notification_rows(user=user, site=site, full=full)
    return exports.export_create(
        user=user, kind=kind, purpose=purpose, recipient=recipient, site=site,
        write=_writer(fmt, rows, withheld), detail={"rows": len(rows), "withheld": withheld},
        stamp=timezone.localdate().isoformat(),
        then=lambda ready: _list_record(user=user, site=site, rows=rows, recipient=recipient))


def _export_kind(fmt: str) -> str:
    if fmt not in ("csv", "pdf"):
        raise NotFound()
    return "icrc_pdf" if fmt == "pdf" else "icrc_csv"


def _writer(fmt: str, rows: list[dict], withheld: int, progress=None):
    """What writes the list into the export's file: the PDF rendered in chunks
    (``ICRC_PDF_CHUNK`` persons a document, joined), the CSV in batches; ``progress(done,
    total)`` after each (a job's: cancel stops it there)."""

    def write(fh) -> None:
        if fmt == "pdf":
            fh.write(icrc_pdf(rows, withheld=withheld, progress=progress))
            return
        fh.write(icrc_csv([]))  # the byte-order mark and the header line
        writer_rows = io.StringIO()
        writer = csv.writer(writer_rows)
        for start in range(0, len(rows), _CSV_BATCH):
            writer_rows.seek(0)
            writer_rows.truncate()
            for r in rows[start:start + _CSV_BATCH]:
                writer.writerow([_safe_cell(r[key]) for key, _label in COLUMNS])
            fh.write(writer_rows.getvalue().encode("utf-8"))
            if progress is not None:
                progress(min(start + _CSV_BATCH, len(rows)), len(rows))

    return write


def icrc_notification_job_start(*, user, fmt: str, purpose: str, recipient: str, site=None,
                                full: bool = False):
    """Start the job that writes the notification (``core.export_jobs``): checks the
    permissions, the purpose and the recipient now, and returns ``(job, passphrase)`` — the
    passphrase to show once, on the page that started the job."""
    kind = _export_kind(fmt)
    access.require(user, Perm.PROTECTION_ACT, site)
    return export_jobs.export_job_start(
        user=user, job_kind=ICRC_JOB_KIND, export_kind=kind, purpose=purpose,
        recipient=recipient, site=site, subject=fmt.upper(),
        params={"format": fmt, "full": bool(full)})


def icrc_notification_job_run(job, progress) -> None:
    """What the ``icrc_notification`` job does: read the rows (the owner's permission checked
    again), write the encrypted file in chunks reporting progress, then in one transaction:
    the export's ledger entry, the list recorded as sent, the job done, its seal wiped."""
    user, site, fmt = job.owner, job.site, job.params["format"]
    kind = _export_kind(fmt)
    exports.export_check(user=user, kind=kind, purpose=job.params.get("purpose", ""),
                         recipient=job.params.get("recipient", ""), site=site)
    rows, withheld = icrc_notification_rows(user=user, site=site,
                                            full=bool(job.params.get("full")))
    progress(0, len(rows))
    recipient = job.params.get("recipient", "")
    export_jobs.export_job_deliver(
        job, export_kind=kind, write=_writer(fmt, rows, withheld, progress), count=len(rows),
        site=site, detail={"rows": len(rows), "withheld": withheld},
        stamp=timezone.localdate().isoformat(),
        also=lambda ready: _list_record(user=user, site=site, rows=rows, recipient=recipient))


__all__ = ["COLUMNS", "ICRC_JOB_KIND", "icrc_csv", "icrc_last_list", "icrc_notification_export",
           "icrc_notification_job_run", "icrc_notification_job_start",
           "icrc_notification_rows", "icrc_pdf", "person_icrc_withhold"]
