from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.core.backup import file_store_register
from mawa.core.dashboard import panel_register
from mawa.core.hooks import hook_register
from mawa.core.nav import NavEntry, nav_register


class ReportsConfig(AppConfig):
    name = "mawa.reports"
    verbose_name = _("Reports")

    def ready(self):
        # here, not at the top: the panel reads models, not loaded yet when this module is
        from mawa.reports import services
        from mawa.reports.dashboard import reports_panel

        nav_register(NavEntry("reports:sitrep", _("Reports"), Perm.REPORT_VIEW, 80))
        panel_register(reports_panel)
        # the stored PDF reports, in every backup
        file_store_register("reports", services.reports_dir)
        # a change recorded for a day that is over drops that day's snapshot and the later ones
        hook_register("person.registered", services.snapshot_on_person_registered)
        hook_register("person.transitioned", services.snapshot_on_person_transitioned)
        hook_register("person.merged", services.snapshot_on_person_merged)
        hook_register("person.changed", services.snapshot_on_person_changed)
        hook_register("person.categorised", services.snapshot_on_person_categorised)
