"""The pages of background jobs (``core.jobs``): a job with its progress bar, cancel and
download, and the list of the user's recent jobs. Only the owner sees a job."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from mawa.core import exports, jobs

POLL_SECONDS = 1


def _context(job) -> dict:
    available = jobs.job_result_available(job)
    return {"job": job, "label": jobs.job_label(job), "error": jobs.job_error_text(job),
            "stalled": jobs.job_stalled(job), "available": available,
            "link": reverse("core:export_download", args=[job.result_token])
            if available else "", "poll": POLL_SECONDS,
            "minutes": exports.LINK_SECONDS // 60}


job_context = _context  # what the job templates need (also core.views_exports)


@never_cache
@require_GET
@login_required
def job_detail(request, job_id):
    job = jobs.job_get(user=request.user, job_id=job_id)
    return render(request, "core/job_detail.html", _context(job))


@never_cache
@require_GET
@login_required
def job_progress(request, job_id):
    """The part of the job page that htmx polls until the job has finished."""
    job = jobs.job_get(user=request.user, job_id=job_id)
    return render(request, "core/job_progress.html", _context(job))


@require_POST
@login_required
def job_cancel(request, job_id):
    job = jobs.job_cancel(user=request.user, job_id=job_id)
    if request.headers.get("HX-Request"):
        return render(request, "core/job_progress.html", _context(job))
    return redirect("core:job_detail", job_id=job.pk)


@never_cache
@require_GET
@login_required
def job_list(request):
    recent = [{"job": j, "label": jobs.job_label(j)} for j in jobs.jobs_recent(user=request.user)]
    return render(request, "core/job_list.html", {"recent": recent})
