from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustodyConfig(AppConfig):
    name = "mawa.custody"
    verbose_name = _("Custody")

    def ready(self):
        # here, not at the top: the registry imports apps.py before the models exist
        from mawa.accounts.roles import Perm
        from mawa.core.dashboard import panel_register
        from mawa.core.nav import NavEntry, nav_register
        from mawa.custody.panels import custody_panel
        from mawa.custody.replay import appliers_register

        nav_register(NavEntry("custody:index", _("Custody"), Perm.CUSTODY_VIEW, 20))
        nav_register(NavEntry("custody:surrender_start", _("Surrender"), Perm.CUSTODY_RECORD, 21))
        nav_register(NavEntry("custody:handover_list", _("Handovers"), Perm.CUSTODY_DISPOSE, 22))
        panel_register(custody_panel)
        # changes made at a post (or at headquarters) replayed through the same services
        appliers_register()
