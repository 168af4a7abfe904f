"""Shapes of the alerts API (contract: api-v1.md, "Alerts"). Validation of rules lives in the
service (alerts.services.rules.rule_clean) so the form and the API refuse the same things."""

from rest_framework import serializers

from ..models import KINDS


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=KINDS)
    granularity = serializers.ChoiceField(choices=["hour", "day"], default="hour")
    threshold = serializers.JSONField(help_text='"learned" or {"op": ">" | "<", "value": number}')
    for_windows = serializers.IntegerField(default=2)
    keep_firing_for = serializers.IntegerField(default=1)
    lookback_hours = serializers.IntegerField(default=48)
    severity = serializers.ChoiceField(choices=["critical", "warning", "info"], default="warning")
    recipients = serializers.ListField(child=serializers.CharField(), default=list)
    webhook = serializers.CharField(required=False, allow_blank=True)
    webhook_format = serializers.ChoiceField(choices=["json", "slack"], default="json")
    features = serializers.ListField(child=serializers.CharField(), default=list)
    segments = serializers.JSONField(default=False, help_text="false: all rows only; true: every tracked "
                                     "segment too; or a list of segment names (each judged on its own windows)")
    enabled = serializers.BooleanField(default=True)
    demoted = serializers.SerializerMethodField()
    precision = serializers.SerializerMethodField()

    def get_demoted(self, rule) -> bool:
        return rule.demoted_at is not None

    def get_precision(self, rule) -> float | None:
        return self.context.get("precision", {}).get(rule.id)


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.IntegerField(source="rule_id")
    kind = serializers.CharField()
    state = serializers.CharField()
    severity = serializers.CharField()
    started = serializers.DateTimeField(source="started_at", allow_null=True)
    resolved = serializers.DateTimeField(source="resolved_at", allow_null=True)
    features = serializers.ListField(child=serializers.CharField())
    segment = serializers.CharField()
    summary = serializers.CharField()
    version = serializers.CharField(source="version.version")
    value = serializers.FloatField(allow_null=True)
    expected = serializers.JSONField(allow_null=True)
    acknowledged = serializers.DateTimeField(source="acknowledged_at", allow_null=True)
    flapping = serializers.BooleanField()
    regressed = serializers.BooleanField()


class SilenceInSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=500)
    rule = serializers.IntegerField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=KINDS, required=False, allow_blank=True)


class SilenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    until = serializers.DateTimeField(source="ends_at")
    starts = serializers.DateTimeField(source="starts_at")
    reason = serializers.CharField()
    rule = serializers.IntegerField(source="rule_id", allow_null=True)
    kind = serializers.CharField()
    created_by = serializers.CharField(source="created_by_name")
