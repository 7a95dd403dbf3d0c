"""The reports panel of the home page: yesterday at a glance, for roles that read reports.

What each role needs first: the camp manager the people in care and occupancy of the camp,
the protection officer the same with the day's changes, the auditor and administrator the
stored reports and (for publishers) the statistics. Figures come from the same selectors as
the report, so the panel and the report never disagree.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.reports import selectors
from mawa.reports.consistency import LABELS, consistency_last


def reports_panel(request):
    user = request.user
    if not access.can(user, Perm.REPORT_VIEW):
        return None
    day = timezone.now().date() - dt.timedelta(days=1)
    scope = selectors.sitrep_scope(user=user, day=day)
    arrivals = selectors.sitrep_arrivals(scope)
    population = selectors.sitrep_population(scope)
    url = reverse("reports:sitrep")
    query = f"?date={day.isoformat()}&site=ALL"
    metrics = [
        {"label": _("Arrived yesterday"), "value": arrivals["today"], "url": url + query},
        {"label": _("In care"), "value": population["in_care"], "url": url + query},
    ]
    if access.can(user, Perm.CAMP_VIEW):
        camp = selectors.sitrep_camp(scope)
        if camp.get("available"):
            metrics.append({"label": _("Places free"),
                            "value": max(camp["capacity"] - camp["occupied"], 0),
                            "url": url + query + "#camp"})
    links = [{"url": url + query, "label": _("Yesterday's situation report")},
             {"url": reverse("reports:stored_list"), "label": _("Stored daily reports")}]
    last = consistency_last()
    if last is not None:
        failed = [c for c in last.get("checks", []) if not c.get("ok")]
        metrics.append({
            "label": _("Consistency check of %(day)s") % {"day": last.get("day", "")},
            "value": _("all hold") if not failed else
            _("%(n)s fail: %(names)s") % {"n": len(failed),
                                          "names": ", ".join(
                str(LABELS.get(c.get("name"), c.get("name"))) for c in failed)},
            "url": ""})
    if access.can(user, Perm.STATS_PUBLISH):
        links.append({"url": reverse("reports:stats"), "label": _("Protected statistics")})
    return {"title": _("Situation"), "metrics": metrics, "links": links}
