"""The Django admin for accounts: a viewer, and names only.

Who reaches what (role, sites, every site, active, and Django's own is_superuser, groups and
permissions) is set on Mawa's pages (``/accounts/users/``) through ``accounts.services``,
where a change that opens the accountability compartment needs a step-up and a second
administrator. Here those fields are read-only, accounts are neither added nor deleted, and
the password of an account that reaches the compartment cannot be set. What may still be
changed here (names, e-mail, language, password) goes through the services too, on the ledger.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import services
from mawa.accounts.models import User
from mawa.core.audit import audit

ACCESS_FIELDS = ("role", "sites", "all_sites", "is_active", "is_staff", "is_superuser",
                 "groups", "user_permissions")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "sites")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Access"), {"fields": ACCESS_FIELDS}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = (*ACCESS_FIELDS, "last_login", "date_joined")

    def has_add_permission(self, request):
        return False  # accounts are created on Mawa's page (four eyes on the compartment)

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are disabled, never deleted: the ledger names them

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied
        values = {name: form.cleaned_data[name] for name in form.changed_data
                  if name in services.USER_PROFILE_FIELDS}
        fresh = User.objects.get(pk=obj.pk)
        with transaction.atomic():
            services.user_profile_update(actor=request.user, user=fresh, **values)

    def save_related(self, request, form, formsets, change):
        pass  # sites, groups and permissions are read-only here

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None and services.compartment_perms_of(user.role, user.is_active):
            raise PermissionDenied
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302 and user is not None:
                audit(actor=request.user, action="password_set", obj=user)
        return response
