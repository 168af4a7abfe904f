from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Attempt, Delivery, Event, GateEvaluation, Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["model", "margin", "min_pairs", "min_labels", "auto_rollback", "max_age_days", "updated_at"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "model", "kind", "version", "previous", "actor", "forced"]
    list_filter = ["kind", "forced"]


@admin.register(GateEvaluation)
class GateEvaluationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "model", "candidate", "baseline", "outcome"]


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "status_code", "error", "duration_ms", "created_at"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "url", "status", "delivered_at"]
    inlines = [AttemptInline]
