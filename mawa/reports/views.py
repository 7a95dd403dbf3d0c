"""Pages of the reports app: thin — parse, ask ``access``/services, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.accounts.views import step_up_required
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.views_exports import export_form_page, export_page
from mawa.reports import services
from mawa.reports.forms import SitrepForm, StatsPublishForm


def _default_day() -> dt.date:
    return timezone.now().date() - dt.timedelta(days=1)


@access.requires(Perm.REPORT_VIEW)
def sitrep(request):
    """The situation report page (``?date=…&site=…``); ``format=pdf`` downloads it."""
    sites = list(access.sites_for(request.user).order_by("code"))
    data = request.GET.copy()
    data.setdefault("date", _default_day().isoformat())
    data.setdefault("site", "ALL")
    form = SitrepForm(data, sites=sites)
    context = {"form": form}
    if form.is_valid():
        day, code = form.cleaned_data["date"], form.cleaned_data["site"] or "ALL"
        if request.GET.get("format") == "pdf":
            return _sitrep_pdf(request, day=day, code=code)
        report = services.sitrep_get(user=request.user, day=day, site_code=code)
        context.update(report=report, links=True,
                       prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1),
                       first_day=report["arrivals"]["first_arrival"])
    elif "site" in form.errors:
        raise NotFound()  # a site the user may not see: exactly like a missing one
    return render(request, "reports/sitrep.html", context)


@step_up_required
def _sitrep_pdf(request, *, day, code):
    """GET: the form (purpose, recipient). POST: the PDF as an encrypted export."""
    if request.method != "POST":
        services.sitrep_scope(user=request.user, day=day, site_code=code)  # 404 before a form
    return export_page(
        request, title=_("Situation report (PDF)"), back=reverse("reports:sitrep"),
        make=lambda **asked: services.sitrep_pdf_export(
            user=request.user, day=day, site_code=code, language=translation.get_language(),
            **asked))


@access.requires(Perm.REPORT_VIEW)
def stored_list(request):
    return render(request, "reports/stored_list.html",
                  {"reports": services.stored_report_list(user=request.user)})


@access.requires(Perm.REPORT_VIEW)
def stored_download(request, report_id):
    """A stored daily report, as an encrypted export like the report made on demand. The
    report is looked up first: another site's answers 404 before any step-up."""
    report = services.stored_report_get(user=request.user, report_id=report_id)
    return _stored_export(request, report=report)


@step_up_required
def _stored_export(request, *, report):
    """GET: the form (purpose, recipient). POST: the stored PDF as an encrypted export."""
    return export_page(
        request, title=_("Stored daily report %(name)s") % {"name": report.file_name},
        back=reverse("reports:stored_list"),
        make=lambda **asked: services.stored_report_export(user=request.user, report=report,
                                                           **asked))


@access.requires(Perm.REPORT_VIEW)
def stats(request):
    return render(request, "reports/stats.html", {
        "releases": services.stats_release_list(user=request.user),
        "can_publish": access.can(request.user, Perm.STATS_PUBLISH),
        "form": StatsPublishForm(initial={"date": _default_day()}),
    })


@require_POST
@access.requires(Perm.STATS_PUBLISH)
def stats_publish(request):
    form = StatsPublishForm(request.POST)
    if form.is_valid():
        release = services.stats_release(actor=request.user, day=form.cleaned_data["date"])
        messages.success(request, _("Statistics published for %(day)s.") % {
            "day": release.day.isoformat()})
    else:
        messages.error(request, _("Choose a valid date."))
    return redirect("reports:stats")


@never_cache
@access.requires(Perm.STATS_PUBLISH)
def stats_hxl(request, day):
    """GET: the form (purpose, recipient). POST: the release as HXL CSV, recorded on the
    ledger (aggregates made for publication: not encrypted, see ``core.exports``)."""
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        raise NotFound()
    release = services.stats_release_get(user=request.user, day=parsed)
    title = _("Published statistics (HXL CSV)")
    action = reverse("reports:stats_hxl", args=[day])
    if request.method != "POST":
        return export_form_page(request, title=title, action=action)
    try:
        text = services.stats_hxl(user=request.user, release=release,
                                  purpose=request.POST.get("purpose", ""),
                                  recipient=request.POST.get("recipient", ""))
    except ValidationFailed as exc:
        return export_form_page(request, title=title, action=action, error=exc.message,
                                fields=exc.fields, status=400)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mawa-stats-{day}.hxl.csv"'
    return response
