"""CSV export of the person register, streamed in constant memory.

Kobo's exports fail at 132k submissions because they build the file in memory; this one reads
the register in keyset-paginated chunks (UUIDv7 order) and yields each line as it is written,
so a million persons leave in well under a minute with memory that does not grow.

Only ``Perm.PERSON_EXPORT`` may export (protection.md R9), only the persons the user may see,
and only operational fields unless the user may see sensitive ones. Every export is on the
audit stream with its purpose, its row count is not known in advance, so the entry records the
request; values are never copied into the audit.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import export_jobs
from mawa.core import exports as core_exports
from mawa.core.audit import audit
from mawa.core.errors import ValidationFailed
from mawa.reception.fieldinfo import SENSITIVE_PERSON_FIELDS
from mawa.reception.icrc import _safe_cell
from mawa.reception.models import Person

CHUNK = 5000
JOB_KIND = "persons_export"  # the background job that writes the export (core.jobs)

OPERATIONAL = ["short_code", "status", "category", "given_ar", "given_lat", "father_ar",
               "father_lat", "grandfather_ar", "grandfather_lat", "family_ar", "family_lat",
               "mother_given_ar", "mother_given_lat", "mother_family_ar", "mother_family_lat",
               "kunya_ar", "kunya_lat", "sex", "birth_year", "birth_month", "birth_day",
               "birth_precision", "place_of_birth", "nationality", "service_number", "rank",
               "unit", "branch", "arrived_at", "referral_to", "completeness"]
SENSITIVE = ["family_contact_name", "family_contact_relation", "family_contact_phone",
             "family_contact_address", "vulnerabilities", "icrc_withheld"]
assert set(SENSITIVE) <= SENSITIVE_PERSON_FIELDS


class _Echo:
    def write(self, value):
        return value


def persons_export_start(*, user, purpose: str, site=None) -> list[str]:
    """Check the permission, record the export on the audit trail and return the columns.
    The purpose (why, for whom) is required (protection.md R9)."""
    access.require(user, Perm.PERSON_EXPORT, site)
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationFailed(_("Check the highlighted fields."), fields={
            "purpose": [_("State the purpose of the export and its recipient.")]})
    columns = list(OPERATIONAL)
    if access.can(user, Perm.PERSON_SENSITIVE_VIEW, site):
        columns += SENSITIVE
    with transaction.atomic():
        audit(actor=user, action="export", model="reception.person",
              detail={"export": "persons_csv", "purpose": purpose[:200],
                      "columns": len(columns), "site": getattr(site, "code", "")})
    return columns


def persons_export_lines(*, user, columns: list[str], site=None,
                         progress: Callable[[int, int], None] | None = None,
                         tally: dict | None = None) -> Iterator[str]:
    """The CSV, line by line (UTF-8 BOM first so spreadsheet programs read Arabic).
    ``progress(read, total)`` after each chunk: persons read of those in scope (a job's
    progress; its cancel stops the export there). ``tally["rows"]`` counts the rows
    written."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(columns)
    # Visibility ("registered at or held at one of my sites") is checked here, on each chunk
    # read in id order, not in SQL: an OR over two columns makes both databases collect and
    # sort every visible row again for each chunk (quadratic: minutes at 100,000). Reading the
    # primary key in order costs the same for every chunk. ``persons_visible`` states the rule;
    # a test keeps the two equal.
    visible_sites = access.site_ids(user)
    qs = _scope(site).order_by("id")
    total = qs.count() if progress is not None else 0
    read = 0
    last = None
    fields = ["id", "site_id", "current_site_id", *columns]
    while True:
        chunk = qs.filter(id__gt=last) if last is not None else qs
        rows = list(chunk.values_list(*fields)[:CHUNK])
        if not rows:
            return
        out = []
        for r in rows:
            if visible_sites is None or r[1] in visible_sites or r[2] in visible_sites:
                out.append(writer.writerow([_cell(v) for v in r[3:]]))
        last = rows[-1][0]
        read += len(rows)
        if tally is not None:
            tally["rows"] = tally.get("rows", 0) + len(out)
        yield "".join(out)
        if progress is not None:
            progress(read, max(total, read))


def _scope(site=None):
    qs = Person.objects.all()
    return qs.filter(current_site=site) if site is not None else qs


_FORMULA_START = frozenset("=-@\t\r+")


def _cell(value) -> str:
    # called for every cell of a million rows: the common cases first, by exact type
    t = type(value)
    if t is str:
        return _safe_cell(value) if value and value[0] in _FORMULA_START else value
    if t is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return _safe_cell(value)


def persons_export_file(*, user, purpose: str, recipient: str, site=None):
    """The register as an encrypted, recorded, short-lived export (``core.exports``), made on
    the request or at the command line (``mawa export persons``): the CSV is streamed chunk by
    chunk into the AES zip on disk, memory stays flat. The page starts a job instead
    (``persons_export_job_start``), which writes the same file."""
    core_exports.export_check(user=user, kind="persons_csv", purpose=purpose,
                              recipient=recipient, site=site)
    columns = _columns(user, site)
    return core_exports.export_create(
        user=user, kind="persons_csv", purpose=purpose, recipient=recipient, site=site,
        write=_writer(user=user, columns=columns, site=site),
        detail={"columns": len(columns)}, stamp=timezone.localdate().isoformat())


def _columns(user, site) -> list[str]:
    columns = list(OPERATIONAL)
    if access.can(user, Perm.PERSON_SENSITIVE_VIEW, site):
        columns += SENSITIVE
    return columns


def _writer(*, user, columns: list[str], site=None, progress=None, tally=None):
    def write(fh) -> None:
        for chunk in persons_export_lines(user=user, columns=columns, site=site,
                                          progress=progress, tally=tally):
            fh.write(chunk.encode("utf-8"))

    return write


# --- the job -----------------------------------------------------------------------------------

def persons_export_job_start(*, user, purpose: str, recipient: str, site=None):
    """Start the job that writes the register export (``core.export_jobs``): checks the
    permission, the purpose and the recipient now, and returns ``(job, passphrase)`` — the
    passphrase to show once, on the page that started the job. Progress is counted in persons
    read of those in scope."""
    return export_jobs.export_job_start(
        user=user, job_kind=JOB_KIND, export_kind="persons_csv", purpose=purpose,
        recipient=recipient, site=site, subject=getattr(site, "code", ""),
        total=_scope(site).count())


def persons_export_job_run(job, progress) -> None:
    """What the ``persons_export`` job does: check the owner's permission again, stream the
    register into the encrypted file reporting progress after each chunk, then in one
    transaction: the export's ledger entry, the job done, its seal wiped."""
    user, site = job.owner, job.site
    core_exports.export_check(user=user, kind="persons_csv",
                              purpose=job.params.get("purpose", ""),
                              recipient=job.params.get("recipient", ""), site=site)
    columns = _columns(user, site)
    tally: dict = {"rows": 0}
    export_jobs.export_job_deliver(
        job, export_kind="persons_csv", count_of=lambda: tally["rows"], site=site,
        write=_writer(user=user, columns=columns, site=site, progress=progress, tally=tally),
        detail={"columns": len(columns)}, stamp=timezone.localdate().isoformat())
