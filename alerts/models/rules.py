from django.conf import settings
from django.db import models

from monitoring.models import MLModel, ModelVersion

KINDS = (
    "drift", "prediction_drift", "multivariate_drift", "quality", "volume", "no_data", "performance",
    "estimated_performance", "concept_drift", "label_shift", "staleness",
)
# Kinds judged per input feature: one alert per (rule, feature), so inhibition can work per feature.
FEATURE_KINDS = {"drift", "quality"}


class Severity(models.TextChoices):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def learned_threshold() -> str:
    """The default threshold: the health baselines' verdict (a callable, as JSONField defaults must be)."""
    return "learned"


def no_segments() -> bool:
    """The default ``segments``: all rows only (a callable, as JSONField defaults must be)."""
    return False


class AlertRule(models.Model):
    """When a health finding becomes an alert, and who hears of it.

    ``threshold`` is ``{"op": ">"|"<", "value": x}`` (on the window's value) or ``"learned"`` (the
    health baselines' verdict). ``recipients``: addresses, ``user:<name>``, ``group:<name>`` or
    ``subscribers`` (the model's subscribers)."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=[(k, k) for k in KINDS])
    features = models.JSONField(default=list, blank=True)
    # Segments judged besides all rows: false (none), true (every tracked segment) or a list of
    # names. Opt-in: each segment costs another read and judgement of its windows.
    segments = models.JSONField(default=no_segments, blank=True)
    granularity = models.CharField(max_length=8, choices=[("hour", "hour"), ("day", "day")], default="hour")
    threshold = models.JSONField(default=learned_threshold)
    for_windows = models.PositiveSmallIntegerField(default=2)
    keep_firing_for = models.PositiveSmallIntegerField(default=1)
    lookback_hours = models.PositiveIntegerField(default=48)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    recipients = models.JSONField(default=list, blank=True)
    webhook = models.URLField(max_length=500, blank=True)
    webhook_format = models.CharField(
        max_length=8, choices=[("json", "Generic JSON"), ("slack", "Slack")], default="json"
    )
    enabled = models.BooleanField(default=True)
    demoted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id", "id"]

    def __str__(self) -> str:
        return f"{self.model.slug}: {self.name}"

    def watches_segment(self, segment: str) -> bool:
        """All rows always; a segment when the rule asks for it."""
        if not segment:
            return True
        return self.segments is True or (isinstance(self.segments, list) and segment in self.segments)

    @property
    def threshold_text(self) -> str:
        if self.threshold == "learned":
            return "learned from the reference (the health baselines' expected band)"
        return f"set by hand: {self.threshold['op']} {self.threshold['value']}"


class Subscription(models.Model):
    """A user who hears of a model's alerts sent to ``subscribers`` (the default rules' recipients)."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="alert_subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "user"], name="uniq_alert_subscription")]


class EvaluationCursor(models.Model):
    """The end of the last closed window a rule consumed for a version: windows are fed once, in order."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="cursors")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    window_end = models.DateTimeField()
    # What the last evaluation read: the newest analysis it saw (computed_at) and its ``now``. A
    # window not re-analysed since and started before that ``now`` is not read again.
    analysed_through = models.DateTimeField(null=True, blank=True)
    read_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="uniq_alert_cursor")]
