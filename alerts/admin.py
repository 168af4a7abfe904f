from django.contrib import admin

from .models import Alert, AlertRule, DeliveryAttempt, Notification, Silence, Subscription


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "model", "kind", "severity", "granularity", "for_windows", "enabled", "demoted_at")
    list_filter = ("kind", "severity", "enabled")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "model", "kind", "state", "severity", "started_at", "resolved_at")
    list_filter = ("state", "severity", "kind")
    readonly_fields = ("fingerprint",)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "channel", "recipient", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    inlines = [AttemptInline]


admin.site.register(Silence)
admin.site.register(Subscription)
