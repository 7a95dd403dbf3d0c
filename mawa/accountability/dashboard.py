"""The compartment's panel of the home page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mawa.accountability import selectors
from mawa.accounts import access
from mawa.accounts.roles import Perm


def accountability_panel(request):
    """Home-page panel for the compartment; for anyone else it does not exist (no panel, no
    count, no query)."""
    if not access.can(request.user, Perm.COMPARTMENT_VIEW):
        return None
    counts = selectors.compartment_counts(user=request.user)
    url = reverse("accountability:home")
    return {"title": _("Accountability"), "metrics": [
        {"label": _("Events"), "value": counts["events"], "url": url},
        {"label": _("Evidence items"), "value": counts["evidence"], "url": url},
        {"label": _("Referrals waiting for approval"), "value": counts["referrals_pending"],
         "url": url}], "links": [{"url": url, "label": _("Accountability")}]}
