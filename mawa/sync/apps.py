from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    """Field operations: enrolling posts, bundles of changes both ways, conflicts to decide.
    Above the domain apps: it applies their changes through the appliers they register in
    ``core.changes``."""

    name = "mawa.sync"
    verbose_name = _("Field operations")

    def ready(self):
        from mawa.accounts.roles import Perm
        from mawa.core.nav import NavEntry, nav_register

        # the sync page: last contact, what is pending each way, conflicts to decide (web17)
        nav_register(NavEntry("sync:status", _("Synchronisation"), Perm.SYNC_VIEW, 85))
