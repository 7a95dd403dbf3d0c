"""The custody panel of the home page (registered in ``apps.py``'s ``ready``)."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.custody.models import State
from mawa.custody.selectors import discrepancies_open, items_visible


def custody_panel(request):
    """Home-page panel: what is held at the user's sites and what needs attention."""
    if not access.can(request.user, Perm.CUSTODY_VIEW):
        return None
    counts = dict(items_visible(user=request.user).values_list("state").annotate(
        n=Count("id")).order_by())
    url = reverse("custody:item_list")
    metrics = [{"label": State(s).label, "value": counts.get(s, 0), "url": f"{url}?state={s}"}
               for s in (State.IN_CUSTODY, State.IN_TRANSIT, State.MISSING)]
    metrics.append({"label": _("Open discrepancies"),
                    "value": discrepancies_open(user=request.user).count(),
                    "url": reverse("custody:index")})
    links = [{"url": reverse("custody:index"), "label": _("Stores")},
             {"url": reverse("custody:reconciliation"), "label": _("Reconciliation")}]
    if access.can(request.user, Perm.CUSTODY_RECORD):
        links.insert(0, {"url": reverse("custody:surrender_start"),
                         "label": _("Record a surrender")})
    return {"title": _("Custody"), "metrics": metrics, "links": links}
