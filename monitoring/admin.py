from django.contrib import admin

from .models import ApiToken, MLModel, ModelVersion


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ("version", "stage", "threshold", "created_at", "promoted_at")
    readonly_fields = ("created_at",)
    extra = 0


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "task", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("task",)
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("model", "version", "stage", "threshold", "created_at", "promoted_at")
    list_filter = ("stage", "model")
    search_fields = ("version", "model__slug")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request) -> bool:
        # Keys are shown once at creation, which only the create_api_token command can do.
        return False
