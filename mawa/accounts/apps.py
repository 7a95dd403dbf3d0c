from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.core.nav import NavEntry, nav_register


class AccountsConfig(AppConfig):
    name = "mawa.accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Imported here, not at the top: they load models, and this module is read while
        # Django is still building its app registry.
        from django.contrib import admin

        from mawa.accounts import access, audit_hooks  # noqa: F401  (audit_hooks: login audit)
        from mawa.accounts.models import TOTPDevice
        from mawa.accounts.services import totp_context
        from mawa.core import exports
        from mawa.core.keyrotation import encrypted_field_register

        def has_permission(request):
            # The Django admin is for administrators only; the role decides, not is_staff.
            return access.can(request.user, Perm.ADMIN_SITE)

        admin.site.has_permission = has_permission
        admin.site.site_header = _("Mawa administration")
        admin.site.site_title = _("Mawa")

        # The kernel's exports ask the access policy, which sits above the kernel.
        exports.export_access_install(access.require)
        # the TOTP secrets are sealed with the "accounts" field key (``mawa keys rotate``)
        encrypted_field_register(purpose="accounts", model=TOTPDevice, field="secret_encrypted",
                                 context=lambda device: totp_context(device.user_id))

        nav_register(NavEntry("core:home", _("Home"), Perm.SITE_VIEW, order=0))
        nav_register(NavEntry("sites", _("Sites"), Perm.SITE_VIEW, order=90))
        nav_register(NavEntry("site_new", _("Add a crossing or camp"), Perm.SITE_MANAGE,
                              order=91, menu="sites"))
        nav_register(NavEntry("ledger", _("Ledger"), Perm.LEDGER_VIEW, order=95))
        nav_register(NavEntry("audit_trail", _("Audit trail"), Perm.AUDIT_VIEW, order=96))
        nav_register(NavEntry("accounts:users", _("Users"), Perm.USER_MANAGE, order=98))
        nav_register(NavEntry("admin:index", _("Administration"), Perm.ADMIN_SITE, order=99))

