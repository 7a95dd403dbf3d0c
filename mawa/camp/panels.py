"""The camp panel of the home page (registered in ``apps.py``'s ``ready``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp import selectors
from mawa.core.errors import NotFound


def camp_panel(request):
    """Home-page panel: the camp's figures, read from the register by the same selector as the
    camp dashboard (so the two can never disagree)."""
    if not access.can(request.user, Perm.CAMP_VIEW):
        return None
    try:
        site = selectors.camp_get(user=request.user, preferred=getattr(request, "site", None))
    except NotFound:
        return None
    d = selectors.camp_dashboard(user=request.user, site=site)
    url = reverse("camp:home") + f"?site={site.code}"
    return {
        "title": _("Camp %(name)s") % {"name": site.name},
        "metrics": [
            {"label": _("Population"), "value": d["population"], "url": url},
            {"label": _("Housed"), "value": d["housed"], "url": url},
            {"label": _("Out of the camp"), "value": d["out"],
             "url": reverse("camp:movements")},
            {"label": _("Missing at today's roll calls"), "value": d["rc_missing"],
             "url": reverse("camp:rollcalls")},
            {"label": _("Open discrepancies"), "value": d["discrepancies_open"],
             "url": reverse("camp:rollcalls")},
            {"label": _("Open incidents"), "value": d["incidents_open"],
             "url": reverse("camp:incidents")},
        ],
        "links": [{"url": reverse("camp:rollcalls"), "label": _("Start a roll call")},
                  {"url": reverse("camp:distributions"), "label": _("Distributions")}],
    }
