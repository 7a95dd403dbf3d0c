"""Pages of the reports app: thin — parse, ask ``access``/services, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import NotFound
from mawa.reports import services
from mawa.reports.forms import SitrepForm, StatsPublishForm
from mawa.reports.selectors import sitrep_first_day


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
            pdf, report = services.sitrep_pdf(user=request.user, day=day, site_code=code,
                                              language=translation.get_language())
            name = services.sitrep_file_name(day=day, site_code=report["scope"].code,
                                             language=translation.get_language())
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        report = services.sitrep_get(user=request.user, day=day, site_code=code)
        context.update(report=report, links=True,
                       prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1),
                       first_day=sitrep_first_day(scope=report["scope"]))
    elif "site" in form.errors:
        raise NotFound()  # a site the user may not see: exactly like a missing one
    return render(request, "reports/sitrep.html", context)


@access.requires(Perm.REPORT_VIEW)
def stored_list(request):
    return render(request, "reports/stored_list.html",
                  {"reports": services.stored_report_list(user=request.user)})


@access.requires(Perm.REPORT_VIEW)
def stored_download(request, report_id):
    obj, data = services.stored_report_open(user=request.user, report_id=report_id)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{obj.file_name}"'
    return response


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


@access.requires(Perm.REPORT_VIEW)
def stats_hxl(request, day):
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        raise NotFound()
    release = services.stats_release_get(user=request.user, day=parsed)
    text = services.stats_hxl(user=request.user, release=release)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mawa-stats-{day}.hxl.csv"'
    return response
