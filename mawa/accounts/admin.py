from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from mawa.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "sites")
    fieldsets = (*BaseUserAdmin.fieldsets,
                 (_("Mawa"), {"fields": ("role", "sites", "all_sites", "language")}))
    filter_horizontal = ("sites", "groups", "user_permissions")
