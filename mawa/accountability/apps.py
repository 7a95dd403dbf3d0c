from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.core.backup import file_store_register
from mawa.core.dashboard import panel_register
from mawa.core.nav import NavEntry, nav_register


class AccountabilityConfig(AppConfig):
    name = "mawa.accountability"
    verbose_name = _("Accountability")

    def ready(self):
        # here, not at the top: they read models, not loaded yet when this module is
        from mawa.accountability.dashboard import accountability_panel
        from mawa.accountability.selectors import break_glass_open
        from mawa.accountability.services import evidence_dir
        from mawa.accounts import access

        # Shown only to holders of the compartment permission (investigators, and an
        # administrator during a break-glass grant).
        nav_register(NavEntry("accountability:home", _("Accountability"), Perm.COMPARTMENT_VIEW,
                              80))
        panel_register(accountability_panel)
        # The access policy does not import the compartment: the compartment tells it when an
        # administrator's break-glass grant is open (protection.md R4).
        access.break_glass_rule_register(break_glass_open)
        # the evidence files travel in every backup with the database that points at them
        file_store_register("evidence", evidence_dir)
