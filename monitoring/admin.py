from django.contrib import admin

from .models import MLModel, ModelVersion


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
    # Retention moves raw_purged_before; raw_retention_days is the setting admins change here.
    readonly_fields = ("raw_purged_before",)
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("model", "version", "stage", "threshold", "created_at", "promoted_at")
    list_filter = ("stage", "model")
    search_fields = ("version", "model__slug")
