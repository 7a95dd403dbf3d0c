from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.core.backup import file_store_register
from mawa.core.dashboard import panel_register
from mawa.core.nav import NavEntry, nav_register


class ReportsConfig(AppConfig):
    name = "mawa.reports"
    verbose_name = _("Reports")

    def ready(self):
        # here, not at the top: the panel reads models, not loaded yet when this module is
        from mawa.reports.dashboard import reports_panel
        from mawa.reports.services import reports_dir

        nav_register(NavEntry("reports:sitrep", _("Reports"), Perm.REPORT_VIEW, 80))
        panel_register(reports_panel)
        file_store_register("reports", reports_dir)  # the stored PDF reports, in every backup
