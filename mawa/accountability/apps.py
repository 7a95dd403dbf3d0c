from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "mawa.accountability"
    verbose_name = _("Accountability")

    def ready(self):
        from mawa.accounts.roles import Perm
        from mawa.core.dashboard import panel_register
        from mawa.core.nav import NavEntry, nav_register

        # Shown only to holders of the compartment permission (investigators, and an
        # administrator during a break-glass grant).
        nav_register(NavEntry("accountability:home", _("Accountability"), Perm.COMPARTMENT_VIEW,
                              80))
        panel_register(accountability_panel)


def accountability_panel(request):
    """Home-page panel for the compartment; for anyone else it does not exist (no panel, no
    count, no query)."""
    from django.urls import reverse

    from mawa.accountability import selectors
    from mawa.accounts import access
    from mawa.accounts.roles import Perm

    if not access.can(request.user, Perm.COMPARTMENT_VIEW):
        return None
    counts = selectors.compartment_counts(user=request.user)
    url = reverse("accountability:home")
    return {"title": _("Accountability"), "metrics": [
        {"label": _("Events"), "value": counts["events"], "url": url},
        {"label": _("Evidence items"), "value": counts["evidence"], "url": url},
        {"label": _("Referrals waiting for approval"), "value": counts["referrals_pending"],
         "url": url}], "links": [{"url": url, "label": _("Accountability")}]}
