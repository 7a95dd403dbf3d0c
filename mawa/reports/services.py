"""Writes and outputs of the reports app: situation reports (page data, PDF, stored copies),
statistics releases and their HXL files. Every export is audited (protection.md R5, R9)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import exports
from mawa.core.audit import audit
from mawa.core.errors import Conflict, NotFound
from mawa.core.models import Site
from mawa.core.pdf import render_pdf
from mawa.reports import charts, disclosure
from mawa.reports.models import DayCount, DaySnapshot, StatsRelease, StoredReport
from mawa.reports.selectors import (
    STATS_COLUMNS,
    Scope,
    sitrep_build,
    sitrep_scope,
    snapshot_derive,
    stats_counts,
)

SYSTEM_ACTOR = "system:sitrep"


def _audit_report(*, actor, action: str, scope: Scope, fmt: str) -> None:
    with transaction.atomic():
        audit(actor=actor if actor is not None else SYSTEM_ACTOR, action=action,
              model="reports.sitrep",
              object_id=f"{scope.day.isoformat()}/{scope.code}",
              detail={"day": scope.day.isoformat(), "site": scope.code, "format": fmt})


def sitrep_charts(report: dict) -> dict:
    """The report's charts as inline SVG, labelled in the active language."""
    rtl = translation.get_language_bidi()
    out = {
        "arrivals": charts.bar_chart(report["arrivals"]["series"],
                                     title=_("Arrivals per day")),
        "population": charts.hbar_chart(report["population"]["series"],
                                        title=_("Population by status"), rtl=rtl),
    }
    camp = report["camp"]
    if camp.get("available"):
        out["occupancy"] = charts.hbar_chart(
            [(f"{r['site']} · {r['name']}", r["occupied"]) for r in camp["rows"]],
            capacity=[r["capacity"] for r in camp["rows"]], title=_("Occupancy by block"), rtl=rtl)
    custody = report["custody"]
    if custody.get("available"):
        out["materiel"] = charts.hbar_chart(custody["series"], title=_("Materiel by category"),
                                         rtl=rtl)
    return out


def sitrep_get(*, user, day: dt.date | None, site_code: str | None = None,
               fmt: str = "html") -> dict:
    """The situation report for ``user``: scope checked, every section read, the read
    audited, charts drawn in the active language."""
    scope = sitrep_scope(user=user, day=day, site_code=site_code)
    snapshot_ensure(day=scope.day)
    report = sitrep_build(scope)
    report["charts"] = sitrep_charts(report)
    _audit_report(actor=user, action="read" if fmt == "html" else "export", scope=scope,
                  fmt=fmt)
    return report


def sitrep_pdf(*, user, day: dt.date | None, site_code: str | None = None,
               language: str | None = None) -> tuple[bytes, dict]:
    """The report as PDF bytes (WeasyPrint, vendored Noto Naskh Arabic, charts embedded).
    Rendered after the audit entry is committed: PDF rendering is slow work."""
    with translation.override(language or translation.get_language() or "ar"):
        report = sitrep_get(user=user, day=day, site_code=site_code, fmt="pdf")
        pdf = render_pdf("reports/sitrep_pdf.html", {
            "report": report, "scope": report["scope"],
            "generated_at": dt.datetime.now(dt.UTC)})
    return pdf, report


def sitrep_pdf_export(*, user, day: dt.date | None, site_code: str | None, language: str,
                      purpose: str, recipient: str):
    """The report's PDF as an encrypted, recorded, short-lived export (``core.exports`` kind
    ``sitrep_pdf``): its ledger entry is the one record of this export (no second entry)."""
    scope = sitrep_scope(user=user, day=day, site_code=site_code)
    exports.export_check(user=user, kind="sitrep_pdf", purpose=purpose, recipient=recipient)
    snapshot_ensure(day=scope.day)
    with translation.override(language or translation.get_language() or "ar"):
        report = sitrep_build(scope)
        report["charts"] = sitrep_charts(report)
        pdf = render_pdf("reports/sitrep_pdf.html", {
            "report": report, "scope": scope, "generated_at": dt.datetime.now(dt.UTC)})
    return exports.export_create(
        user=user, kind="sitrep_pdf", purpose=purpose, recipient=recipient,
        write=lambda fh: fh.write(pdf), stamp=f"{scope.day.isoformat()}-{scope.code}-{language}",
        detail={"report": "reports.sitrep", "scope": scope.code, "day": scope.day.isoformat()})


def sitrep_file_name(*, day: dt.date, site_code: str, language: str) -> str:
    return f"sitrep-{day.isoformat()}-{site_code}-{language}.pdf"


def reports_dir() -> Path:
    return Path(settings.VAR_DIR) / "reports"


def sitrep_store(*, day: dt.date, site_code: str | None = None,
                 languages: tuple[str, ...] = ("ar", "en")) -> list[StoredReport]:
    """Generate and keep the PDF reports of ``day`` without a person (the daily timer): every
    site together, and each active site on its own, in each language. Running it twice for a
    day replaces that day's files (idempotent)."""
    snapshot_store(day=day)  # a day that is over: its counts kept, the reports read them
    codes = [site_code.upper()] if site_code else ["ALL", *Site.objects.filter(
        is_active=True).order_by("code").values_list("code", flat=True)]
    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for code in codes:
        for language in languages:
            pdf, report = sitrep_pdf(user=None, day=day, site_code=code, language=language)
            name = sitrep_file_name(day=day, site_code=code, language=language)
            tmp = folder / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pdf)
            tmp.replace(folder / name)  # atomic: a reader never sees half a file
            site = report["scope"].site
            with transaction.atomic():
                obj, _created = StoredReport.objects.update_or_create(
                    day=day, site=site, language=language,
                    defaults={"file_name": name, "sha256": hashlib.sha256(pdf).hexdigest(),
                              "size": len(pdf), "created_by": SYSTEM_ACTOR})
                audit(actor=SYSTEM_ACTOR, action="create", obj=obj,
                      detail={"day": day.isoformat(), "site": code, "language": language})
            stored.append(obj)
    return stored


def stored_report_list(*, user, limit: int = 100) -> list[StoredReport]:
    """Stored reports ``user`` may download: the all-sites report only for users of every
    site, a site's report for users of that site."""
    access.require(user, Perm.REPORT_VIEW)
    qs = StoredReport.objects.select_related("site")
    ids = access.site_ids(user)
    if ids is not None:
        qs = qs.filter(site_id__in=ids)
    return list(qs[:limit])


def stored_report_get(*, user, report_id) -> StoredReport:
    """One stored report ``user`` may download: the all-sites report only for users of every
    site, a site's report for users of that site. Another site's report answers like a
    missing one."""
    access.require(user, Perm.REPORT_VIEW)
    obj = next((r for r in StoredReport.objects.select_related("site").filter(pk=report_id)
                if r.site is None and access.site_ids(user) is None
                or r.site is not None and access.in_scope(user, r.site)), None)
    if obj is None:
        raise NotFound()
    return obj


def stored_report_export(*, user, report: StoredReport, purpose: str, recipient: str):
    """A stored report leaves like the one made on demand (``core.exports`` kind
    ``sitrep_pdf``: the same permission, purpose and recipient, AES-256 zip, one-time
    passphrase, 15-minute single-use link); its ledger entry is the one record of the
    download. The file must still be the one the timer stored: a copy whose SHA-256 differs
    from the record is refused, not sent."""
    exports.export_check(user=user, kind="sitrep_pdf", purpose=purpose, recipient=recipient)
    try:
        data = (reports_dir() / report.file_name).read_bytes()
    except FileNotFoundError:
        raise NotFound()
    if hashlib.sha256(data).hexdigest() != report.sha256:
        raise Conflict(_("The stored file of this report is not the one that was generated "
                         "(its SHA-256 differs): it was not sent. Generate the report again "
                         "with “mawa sitrep --store”."), code="stored_report_altered")
    code = report.site.code if report.site else "ALL"
    return exports.export_create(
        user=user, kind="sitrep_pdf", purpose=purpose, recipient=recipient,
        write=lambda fh: fh.write(data),
        stamp=f"{report.day.isoformat()}-{code}-{report.language}",
        detail={"report": "reports.stored", "stored": str(report.pk), "scope": code,
                "day": report.day.isoformat(), "stored_sha256": report.sha256})


# --- the day snapshot ---------------------------------------------------------------------

def _day_is_over(day: dt.date) -> bool:
    return day < timezone.now().date()


def snapshot_store(*, day: dt.date) -> DaySnapshot | None:
    """Derive the snapshot of ``day`` from the records and keep it, replacing the one kept
    (``mawa sitrep --store`` each night; a report of a day without one). Only a day that is
    over: today's figures still change. Returns None for today or a later day, whose kept
    snapshots, if any, are dropped (kept under a clock since set back: a replay)."""
    if not _day_is_over(day):
        _snapshots_drop(day)
        return None
    with transaction.atomic():
        # derived inside the transaction that keeps it: a backdated change committed
        # meanwhile drops the snapshot after this one is written, not before
        rows = snapshot_derive(day)
        DayCount.objects.filter(day=day).delete()
        DaySnapshot.objects.filter(day=day).delete()
        DayCount.objects.bulk_create(rows, batch_size=500)
        return DaySnapshot.objects.create(day=day, built_at=timezone.now(), rows=len(rows))


def snapshot_ensure(*, day: dt.date) -> None:
    """Keep the snapshot of ``day`` if it is over and none is kept: the first report of such
    a day reads the register once, the next ones read the snapshot."""
    if _day_is_over(day) and not DaySnapshot.objects.filter(day=day).exists():
        snapshot_store(day=day)


def snapshot_invalidate(*, since: dt.date) -> int:
    """Drop the snapshots of ``since`` and every later day (a change recorded with an earlier
    time, or one that changes how a person counts on every day since their arrival): they are
    derived again when next asked for. Returns how many days were dropped.

    A change dated today or later drops nothing and costs no query: no day from today on is
    kept (``snapshot_store``)."""
    if since >= timezone.now().date():
        return 0
    return _snapshots_drop(since)


def _snapshots_drop(since: dt.date) -> int:
    if not DaySnapshot.objects.filter(day__gte=since).exists():
        return 0  # the usual case
    DayCount.objects.filter(day__gte=since).delete()
    return DaySnapshot.objects.filter(day__gte=since).delete()[0]


def _day(at: dt.datetime) -> dt.date:
    return at.astimezone(dt.UTC).date()


def snapshot_on_person_registered(*, persons, **kw) -> None:
    """``person.registered``: persons counted from their arrival and first status on."""
    if persons:
        snapshot_invalidate(since=min(min(_day(p.arrived_at), _day(p.status_changed_at))
                                      for p in persons))


def snapshot_on_person_transitioned(*, persons, at=None, **kw) -> None:
    """``person.transitioned``: a move counts from its time on (a backdated one included)."""
    if persons:
        snapshot_invalidate(since=_day(at or min(p.status_changed_at for p in persons)))


def snapshot_on_person_merged(*, duplicate, **kw) -> None:
    """``person.merged``: a duplicate record counts nowhere, on no day (``_persons``)."""
    snapshot_invalidate(since=_day(duplicate.arrived_at))


def snapshot_on_person_categorised(*, persons, **kw) -> None:
    """``person.categorised``: the category counts on every day since the arrival."""
    if persons:
        snapshot_invalidate(since=min(_day(p.arrived_at) for p in persons))


def snapshot_on_person_changed(*, persons, fields=None, **kw) -> None:
    """``person.changed``: a corrected category counts on every day since the arrival. Other
    corrections (names, documents …) change no count."""
    if persons and (fields is None or "category" in fields):
        snapshot_invalidate(since=min(_day(p.arrived_at) for p in persons))


# --- protected statistics ----------------------------------------------------------------

def stats_table(*, day: dt.date, previous: StatsRelease | None = None
                ) -> disclosure.ReleasedTable:
    """The releasable table for ``day``: people in care per camp by sex and age group,
    suppressed and rounded, checked against the previous release."""
    counts, camps = stats_counts(day=day)
    prior = disclosure.ReleasedTable.from_json(previous.table) if previous else None
    return disclosure.protect(counts, [c.code for c in camps], list(STATS_COLUMNS),
                              previous=prior)


def stats_release(*, actor, day: dt.date) -> StatsRelease:
    """Publish the protected statistics of ``day`` (Perm.STATS_PUBLISH). The previous release
    is the latest one before ``day``; publishing a day twice returns the first release, so a
    second, different table of the same day can never be differenced with it."""
    access.require(actor, Perm.STATS_PUBLISH)
    existing = StatsRelease.objects.filter(day=day).first()
    if existing:
        return existing
    previous = StatsRelease.objects.filter(day__lt=day).order_by("-day").first()
    table = stats_table(day=day, previous=previous)
    with transaction.atomic():
        release = StatsRelease.objects.create(day=day, table=table.as_json(),
                                              created_by=str(actor.pk))
        audit(actor=actor, action="publish", obj=release, detail={"day": day.isoformat()})
    return release


def stats_release_list(*, user) -> list[StatsRelease]:
    access.require(user, Perm.REPORT_VIEW)
    return list(StatsRelease.objects.all()[:100])


def stats_release_get(*, user, day: dt.date) -> StatsRelease:
    access.require(user, Perm.REPORT_VIEW)
    release = StatsRelease.objects.filter(day=day).first()
    if release is None:
        raise NotFound()
    return release


HXL_COLUMNS = [
    # (column, header, HXL hashtag) — sex and age are attributes, not tags (HXL 1.1)
    ("m_adults", "Men", "#affected+m+adults"),
    ("f_adults", "Women", "#affected+f+adults"),
    ("m_children", "Boys", "#affected+m+children"),
    ("f_children", "Girls", "#affected+f+children"),
    ("unknown", "Sex or age not recorded", "#affected+unknown"),
]


def stats_hxl(*, user, release: StatsRelease, purpose: str, recipient: str) -> str:
    """The release as an HXL-tagged CSV: one row per camp, and the all-camps total. Withheld
    cells are empty; nothing here is read from the register again (only the released,
    protected table is exported). ``Perm.STATS_PUBLISH``, purpose and recipient on the ledger
    (``core.exports`` kind ``stats_hxl``); not encrypted: it is made to be published."""
    exports.export_check(user=user, kind="stats_hxl", purpose=purpose, recipient=recipient)
    table = disclosure.ReleasedTable.from_json(release.table)
    adm1 = getattr(settings, "MAWA_SITE_ADM1", {}) or {}
    country = getattr(settings, "MAWA_COUNTRY_ISO3", "")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", "Country", "Admin 1", "Camp", "Total internees",
                     *(h for _c, h, _t in HXL_COLUMNS)])
    writer.writerow(["#date", "#country+code", "#adm1+name", "#loc+camp+code",
                     "#affected+total", *(t for _c, _h, t in HXL_COLUMNS)])

    def cell(v):
        return "" if v is None else v

    for row in [*table.rows, disclosure.TOTAL]:
        writer.writerow([release.day.isoformat(), country,
                         adm1.get(row, "") if row != disclosure.TOTAL else "",
                         row if row != disclosure.TOTAL else "ALL",
                         cell(table.value(row, disclosure.TOTAL)),
                         *(cell(table.value(row, c)) for c, _h, _t in HXL_COLUMNS)])
    text = out.getvalue()
    exports.export_record(user=user, kind="stats_hxl", purpose=purpose, recipient=recipient,
                          data=text.encode("utf-8"),
                          detail={"release": str(release.pk), "day": release.day.isoformat()})
    return text
