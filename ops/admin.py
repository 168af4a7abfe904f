"""Read-only admin: every write goes through ops.services so it is validated and audited."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AuditRecord, Correction, Override


@admin.register(Override)
class OverrideAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "item_id", "model", "starts_at", "ends_at", "revoked_at", "created_by"]
    list_filter = ["kind", "model"]
    search_fields = ["item_id", "reason"]


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "prediction", "corrected_outcome", "recorded_as_label", "created_by", "created_at"]


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_name", "action", "object_type", "object_id", "model_slug", "item_id"]
    list_filter = ["action"]
    search_fields = ["actor_name", "item_id", "request_id", "reason"]
