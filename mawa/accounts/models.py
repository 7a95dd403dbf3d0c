"""Staff accounts: one role each, scoped to sites."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Role
from mawa.core.ids import uuid7


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    sites = models.ManyToManyField("core.Site", blank=True, related_name="users",
                                   verbose_name=_("sites"))
    all_sites = models.BooleanField(
        _("all sites"), default=False,
        help_text=_("Headquarters roles that work across every site."),
    )
    language = models.CharField(_("language"), max_length=8, default="ar",
                                choices=[("ar", _("Arabic")), ("en", _("English"))])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values) | models.Q(role=""),
                                   name="user_role_known"),
        ]

    # Django's admin asks these. Only administrators get model permissions, and never on the
    # accountability compartment (DESIGN.md: administrators see no compartment content).
    _ADMIN_DENIED_APPS = frozenset({"accountability"})

    def has_perm(self, perm, obj=None):
        if not (self.is_active and self.role == Role.ADMINISTRATOR):
            return False
        return perm.split(".", 1)[0] not in self._ADMIN_DENIED_APPS

    def has_module_perms(self, app_label):
        return self.is_active and self.role == Role.ADMINISTRATOR and (
            app_label not in self._ADMIN_DENIED_APPS)
