from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "mawa.accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from mawa.accounts import audit_hooks  # noqa: F401  (connects the login audit)
