"""Import pages: upload → preview (mapping, every problem) → import with a progress bar.

The uploaded file is kept under ``var/imports/<token>.bin`` (0600, ``imports.upload_store``)
until imported, and removed by ``mawa purge`` after ``MAWA_IMPORT_FILE_SECONDS`` if it never is;
the token is random and bound to the uploading user. Whatever the file holds, the preview
answers a page: a file that cannot be read is refused with its reason (400), never a 500.
The import itself runs in a background thread after the request, because 100,000 rows take
longer than a browser waits; the page polls its progress with htmx.
"""

from __future__ import annotations

import json
import threading

from django.db import close_old_connections
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import display
from mawa.core.errors import MawaError, NotFound
from mawa.core.models import SiteKind
from mawa.reception import imports, selectors
from mawa.reception.models import Person


def _dir():
    return imports.uploads_dir()


def _meta(token: str, user) -> dict:
    if not token.isalnum() or len(token) > 64:
        raise NotFound()
    try:
        meta = json.loads((_dir() / f"{token}.json").read_text())
    except (OSError, ValueError):
        raise NotFound()
    if meta.get("user") != str(user.pk):
        raise NotFound()
    return meta


def _save_meta(token: str, meta: dict) -> None:
    imports.upload_write(_dir() / f"{token}.json", json.dumps(meta).encode())


def _site(request):
    site = getattr(request, "site", None)
    if site is not None and site.kind == SiteKind.CROSSING:
        return site
    return next((s for s in access.sites_for(request.user) if s.kind == SiteKind.CROSSING), None)


#: import targets that are no field of Person (the others use the field's verbose name)
IMPORT_FIELD_LABELS = {
    "birth": gettext_lazy("Date of birth"), "approximate_age": gettext_lazy("Approximate age"),
    "document_kind": gettext_lazy("Document kind"),
    "document_number": gettext_lazy("Document number"),
    "document_issuer": gettext_lazy("Issued by"),
}


def _import_fields() -> list[tuple[str, str]]:
    """The mapping's targets as (stored key, translated label) for the select boxes."""
    return [(f, display.field_label(Person, f, IMPORT_FIELD_LABELS)) for f in imports.FIELDS]


@never_cache
@access.requires(Perm.PERSON_IMPORT)
def import_upload(request):
    error = None
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        if upload.size > imports.MAX_BYTES:
            error = _("The file is larger than %(n)s MB.") % {
                "n": imports.MAX_BYTES // 1024 // 1024}
        else:
            token = imports.upload_store(upload.read())
            _save_meta(token, {"user": str(request.user.pk), "name": upload.name[:200],
                               "group": request.POST.get("group", ""), "state": "uploaded"})
            return redirect("reception:import_preview", token=token)
    # the arrival group the imported persons came with (issue 21: chosen on the page)
    return render(request, "reception/import_upload.html", {
        "error": error, "groups": selectors.arrival_group_list(user=request.user),
        "chosen_group": request.POST.get("group") or request.GET.get("group", "")})


def _check(request, meta, token):
    site = _site(request)
    if site is None:
        raise NotFound()
    group = None
    if meta.get("group"):
        group = selectors.arrival_group_get(user=request.user, group_id=meta["group"])
    try:
        data = (_dir() / f"{token}.bin").read_bytes()
    except OSError:
        raise imports.ImportRefused(_("This upload is no longer kept (it was imported, or it "
                                      "expired). Upload the file again."), code="import_gone")
    table = imports.table_read(data, meta["name"])
    mapping = meta.get("mapping") or imports.mapping_guess(table.headers)
    return site, imports.import_check(user=request.user, site=site, table=table,
                                      mapping=mapping, group=group)


@never_cache
@access.requires(Perm.PERSON_IMPORT)
def import_preview(request, token):
    meta = _meta(token, request.user)
    if request.method == "POST" and "mapping" in request.POST:
        meta["mapping"] = {h: f for h, f in zip(request.POST.getlist("header"),
                                                request.POST.getlist("field"), strict=False)
                           if f in imports.FIELDS}
        _save_meta(token, meta)
    try:
        site, result = _check(request, meta, token)
    except MawaError as exc:
        return render(request, "reception/import_preview.html",
                      {"error": exc.message, "token": token, "meta": meta}, status=400)
    # the officer's answer for each row possibly already registered: import (and queue for
    # duplicate review) or leave out; the rest of the file is imported either way
    decisions = {p.row: request.POST.get(f"decide_{p.row}", "") for p in result.decisions}
    undecided = [row for row, d in decisions.items() if d not in imports.DECISIONS]
    if request.method == "POST" and "commit" in request.POST and result.ok and not undecided:
        skipped = sum(1 for d in decisions.values() if d == imports.DECIDE_SKIP)
        meta["state"], meta["done"] = "running", 0
        meta["total"] = len(result.people) - skipped
        meta["decisions"] = {str(row): d for row, d in decisions.items()}
        _save_meta(token, meta)
        threading.Thread(target=_run, args=(request.user, site, result, token, meta),
                         daemon=True).start()
        return redirect("reception:import_progress", token=token)
    return render(request, "reception/import_preview.html", {
        "token": token, "meta": meta, "result": result, "fields": _import_fields(),
        "preview": result.table.rows[:10], "problems": result.errors[:200],
        "decisions": result.decisions, "chosen": decisions,
        "undecided": undecided if request.method == "POST" and "commit" in request.POST
        else []})


def _run(user, site, result, token, meta):
    def progress(done, total):
        meta["done"] = done
        _save_meta(token, meta)

    try:
        decisions = {int(row): d for row, d in (meta.get("decisions") or {}).items()}
        imports.import_commit(user=user, site=site, result=result, progress=progress,
                              decisions=decisions)
        meta["state"] = "done"
        (_dir() / f"{token}.bin").unlink(missing_ok=True)
    except MawaError as exc:
        meta["state"], meta["error"] = "failed", str(exc.message)
    except Exception:  # noqa: BLE001 — reported to the page; nothing was written (rollback)
        meta["state"], meta["error"] = "failed", "internal error"
    finally:
        _save_meta(token, meta)
        close_old_connections()


@never_cache
@access.requires(Perm.PERSON_IMPORT)
def import_progress(request, token):
    meta = _meta(token, request.user)
    template = "reception/import_progress_bar.html" if request.headers.get("HX-Request") \
        else "reception/import_progress.html"
    total = meta.get("total") or 1
    return render(request, template, {"meta": meta, "token": token,
                                      "percent": int(100 * meta.get("done", 0) / total)})


@never_cache
@access.requires(Perm.PERSON_IMPORT)
def import_report(request, token):
    meta = _meta(token, request.user)
    _site_, result = _check(request, meta, token)
    response = HttpResponse(result.report_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-report-{token[:8]}.csv"'
    return response
