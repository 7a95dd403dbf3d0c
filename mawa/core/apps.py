from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mawa.core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib import admin

        from mawa.accounts import access
        from mawa.accounts.roles import Perm
        from mawa.core.nav import NavEntry, nav_register

        def has_permission(request):
            # The Django admin is for administrators only; the role decides, not is_staff.
            return access.can(request.user, Perm.ADMIN_SITE)

        admin.site.has_permission = has_permission
        admin.site.site_header = _("Mawa administration")
        admin.site.site_title = _("Mawa")

        nav_register(NavEntry("core:home", _("Home"), Perm.SITE_VIEW, order=0))
        nav_register(NavEntry("core:sites", _("Sites"), Perm.SITE_VIEW, order=90))
        nav_register(NavEntry("core:ledger", _("Ledger"), Perm.LEDGER_VIEW, order=95))
        nav_register(NavEntry("admin:index", _("Administration"), Perm.ADMIN_SITE, order=99))
