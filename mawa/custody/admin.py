"""Administrators edit the reference catalogue; items are shown read-only (their state is
derived from custody events and changes only through the services)."""

from django.contrib import admin

from mawa.custody.models import Item, MaterielModel, Store


@admin.register(MaterielModel)
class MaterielModelAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ar", "kind", "make", "calibre", "iti_category",
                    "unroca_category", "is_active")
    list_filter = ("kind", "iti_category", "unroca_category", "is_active")
    search_fields = ("name", "name_ar", "make", "calibre")


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ar", "site", "kind", "short_code", "is_active")
    search_fields = ("name", "name_ar", "short_code")
    readonly_fields = ("short_code", "site")

    def has_add_permission(self, request):
        return False  # stores are created through the service (ledger entry)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("short_code", "kind", "model", "serial_number", "state", "location_site")
    list_filter = ("kind", "state")
    search_fields = ("short_code", "serial_number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
