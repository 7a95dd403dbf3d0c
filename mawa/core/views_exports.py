"""The download of an export (``core.exports``) and the page that hands out its passphrase."""

from __future__ import annotations

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mawa.core import exports, jobs_views
from mawa.core.errors import ValidationFailed


class _DeleteOnClose:
    """The claimed file, deleted as soon as the response has sent it (or failed to)."""

    def __init__(self, path):
        self.path = path
        self.fh = open(path, "rb")  # noqa: SIM115  (closed by the response)

    def read(self, *args):
        return self.fh.read(*args)

    def close(self):
        self.fh.close()
        self.path.unlink(missing_ok=True)


@never_cache
@require_GET
@login_required
def export_download(request, token):
    claimed = exports.export_claim(user=request.user, token=token)
    content_type = mimetypes.guess_type(claimed.filename)[0] or "application/zip"
    return FileResponse(_DeleteOnClose(claimed.path), as_attachment=True,
                        filename=claimed.filename, content_type=content_type)


def export_ready_page(request, ready: exports.ExportReady, *, back: str = ""):
    """The page shown once after an export: the passphrase and the link (15 minutes, once)."""
    return render(request, "core/export_ready.html", {
        "ready": ready, "link": reverse("core:export_download", args=[ready.token]),
        "minutes": exports.LINK_SECONDS // 60, "back": back})


def export_form_page(request, *, title, action, error=None, fields=None, status=200,
                     note=""):
    return render(request, "core/export_form.html", {
        "title": title, "action": action, "error": error, "fields": fields or {},
        "post": request.POST, "note": note}, status=status)


def export_page(request, *, title, make, back: str = ""):
    """The two steps of an export page (after step-up): GET shows the form asking for the
    purpose and the recipient; POST calls ``make(purpose=…, recipient=…)``, which returns an
    ``ExportReady``, and shows its passphrase and link — or the form again with the refusal
    (400) when the purpose or recipient is missing."""
    action = request.get_full_path()
    if request.method != "POST":
        return export_form_page(request, title=title, action=action)
    try:
        ready = make(purpose=request.POST.get("purpose", ""),
                     recipient=request.POST.get("recipient", ""))
    except ValidationFailed as exc:
        return export_form_page(request, title=title, action=action, error=exc.message,
                                fields=exc.fields, status=400)
    return export_ready_page(request, ready, back=back)


def export_job_page(request, *, title, start, back: str = ""):
    """An export written by a background job (``core.export_jobs``): GET shows the form asking
    for the purpose and the recipient; POST calls ``start(purpose=…, recipient=…)``, which
    returns ``(job, passphrase)``, and shows the passphrase — once, here — with the job's
    progress, which offers the download when the file is written (the job's page
    ``/jobs/<id>/`` shows the same, without the passphrase). A missing purpose or recipient
    shows the form again (400)."""
    action = request.get_full_path()
    if request.method != "POST":
        return export_form_page(request, title=title, action=action)
    try:
        job, passphrase = start(purpose=request.POST.get("purpose", ""),
                                recipient=request.POST.get("recipient", ""))
    except ValidationFailed as exc:
        return export_form_page(request, title=title, action=action, error=exc.message,
                                fields=exc.fields, status=400)
    return render(request, "core/export_job_started.html", {
        **jobs_views.job_context(job), "title": title, "passphrase": passphrase,
        "back": back})
