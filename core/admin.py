from django.contrib import admin

from .models import ApiToken


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written by services only (audit, deliveries): readable here, never edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request) -> bool:
        # Keys are shown once at creation, which only the create_api_token command can do.
        return False
