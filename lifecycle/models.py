"""A model's lifecycle policy, its promotion gate evaluations, the audit of stage changes and webhooks."""

from django.db import models
from django.utils import timezone

from monitoring.models import MLModel, ModelVersion


class Policy(models.Model):
    """Per-model lifecycle settings, edited by admins; defaults apply until a row exists."""

    model = models.OneToOneField(MLModel, on_delete=models.CASCADE, related_name="lifecycle_policy")
    # The candidate may be worse than production by less than this (absolute, in accuracy and, for
    # binary models, in ROC AUC too; regression: in MAE).
    margin = models.FloatField(default=0.01)
    min_pairs = models.PositiveIntegerField(default=500)
    min_labels = models.PositiveIntegerField(default=200)
    deployment_webhook = models.URLField(blank=True, max_length=500)
    retraining_webhook = models.URLField(blank=True, max_length=500)
    webhook_secret = models.CharField(max_length=200, blank=True)
    auto_rollback = models.BooleanField(default=False)
    watch_hours = models.PositiveIntegerField(default=48)
    max_age_days = models.PositiveIntegerField(default=180)
    # Performance band's floor for the retraining trigger (primary metric; for MAE-like metrics a
    # ceiling); empty: the model's health setting min_<metric> is used.
    retrain_below = models.FloatField(null=True, blank=True)
    retrain_windows = models.PositiveIntegerField(default=3)
    retrain_min_labels = models.PositiveIntegerField(default=1000)
    retrain_cooldown_hours = models.PositiveIntegerField(default=168)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"policy of {self.model.slug}"


class GateOutcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class GateEvaluation(models.Model):
    """One run of the promotion gate: candidate against baseline, each check with its evidence."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    baseline = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=16, choices=GateOutcome.choices)
    # [{"name", "outcome", "summary", "evidence": {...}}]
    checks = models.JSONField(default=list)
    threshold = models.FloatField(null=True, blank=True)  # set when the gate judged a threshold change
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def failed_checks(self) -> list[str]:
        return [c["name"] for c in self.checks if c["outcome"] != GateOutcome.PASS]


class EventKind(models.TextChoices):
    PROMOTION = "promotion", "Promotion"
    ROLLBACK = "rollback", "Rollback"
    THRESHOLD = "threshold", "Threshold change"
    ROLLBACK_PROPOSED = "rollback_proposed", "Rollback proposed"
    RETRAINING = "retraining", "Retraining requested"
    # The model's first production version, set through the registry (nothing to gate against).
    REGISTERED = "registered", "First production version"


class Event(models.Model):
    """The audit record of a lifecycle action, written in the same transaction as the change."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="lifecycle_events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    previous = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    forced = models.BooleanField(default=False)
    gate = models.ForeignKey(GateEvaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence = models.JSONField(default=dict, blank=True)
    # A rollback names the promotion it undid, so the next rollback goes one step further back.
    undoes = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undone_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["model", "kind", "-created_at"], name="lifecycle_event_kind")]


class Delivery(models.Model):
    """One webhook call (deployment or retraining), retried with backoff; each attempt recorded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    status_code = models.IntegerField(null=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="uniq_attempt_number")]
