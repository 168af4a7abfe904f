from django.contrib import admin

from .models import Attempt, Delivery, Event, GateEvaluation, Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["model", "margin", "min_pairs", "min_labels", "auto_rollback", "max_age_days", "updated_at"]


class ReadOnly(admin.ModelAdmin):
    """The audit is written by services only: readable here, never edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ["created_at", "model", "kind", "version", "previous", "actor", "forced"]
    list_filter = ["kind", "forced"]


@admin.register(GateEvaluation)
class GateEvaluationAdmin(ReadOnly):
    list_display = ["created_at", "model", "candidate", "baseline", "outcome"]


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "status_code", "error", "duration_ms", "created_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ["created_at", "event", "url", "status", "delivered_at"]
    inlines = [AttemptInline]
