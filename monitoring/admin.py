from django.contrib import admin

from .models import ApiToken, MLModel, ModelVersion


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ("version", "stage", "threshold", "created", "promoted")
    readonly_fields = ("created",)
    extra = 0


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "task", "created")
    search_fields = ("slug", "name")
    list_filter = ("task",)
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("model", "version", "stage", "threshold", "created", "promoted")
    list_filter = ("stage", "model")
    search_fields = ("version", "model__slug")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "created", "last_used", "revoked")
    readonly_fields = ("prefix", "created", "last_used")
    fields = ("name", "prefix", "scopes", "created", "last_used", "revoked")

    def has_add_permission(self, request) -> bool:
        # Keys are shown once at creation, which only the create_api_token command can do.
        return False
