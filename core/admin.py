from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request) -> bool:
        # Keys are shown once at creation, which only the create_api_token command can do.
        return False
