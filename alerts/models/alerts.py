from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from monitoring.models import MLModel, ModelVersion

from .rules import AlertRule

FLAP_FLIPS = 4  # this many flips (firing <-> resolved) within FLAP_PERIOD make an alert flap
FLAP_PERIOD = timedelta(days=1)
REGRESSION_PERIOD = timedelta(days=7)


class State(models.TextChoices):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NO_DATA = "no_data", "no data"
    OK = "ok"


class Alert(models.Model):
    """One per fingerprint (model, version, rule, segment, features), never one per window.

    Its state follows the windows fed to ``observe`` in order; transitions are kept on the model
    (as healthchecks keeps a check's) and the evaluation service records and announces them."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="alerts")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="alerts")
    segment = models.CharField(max_length=200, blank=True, default="")
    features = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OK)
    severity = models.CharField(max_length=8, default="warning")
    summary = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=300, blank=True)
    metric = models.CharField(max_length=64, blank=True)
    value = models.FloatField(null=True, blank=True)
    expected = models.JSONField(null=True, blank=True)
    n = models.IntegerField(null=True, blank=True)
    breach_streak = models.PositiveIntegerField(default=0)
    clear_streak = models.PositiveIntegerField(default=0)
    last_window_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    previous_resolved_at = models.DateTimeField(null=True, blank=True)
    flips = models.JSONField(default=list, blank=True)
    flapping = models.BooleanField(default=False)
    regressed = models.BooleanField(default=False)
    # Whether this firing was announced (or deliberately held): a firing that began in a backfill
    # is announced when a window inside the lookback still breaches; an unannounced one resolves quietly.
    announced = models.BooleanField(default=False)
    # When readers were last told it fires (its FIRING message, a silence's end, a reminder):
    # unacknowledged critical alerts are reminded VIGIL_ALERT_REMINDER_HOURS after it.
    told_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_value = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["model", "state"], name="alert_model_state")]

    def __str__(self) -> str:
        return f"{self.kind} {'/'.join(self.features) or self.model_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state == State.FIRING

    def observe(self, *, breached: bool, window_end: datetime, for_windows: int, keep_firing_for: int) -> str | None:
        """Feed one judged window; returns the new state when it changed, else None."""
        self.last_window_end = window_end
        if breached:
            self.breach_streak += 1
            self.clear_streak = 0
            if self.state == State.FIRING:
                return None
            if self.breach_streak >= for_windows:
                return self._fire(window_end)
            return self._to(State.PENDING) if self.state != State.PENDING else None
        self.clear_streak += 1
        self.breach_streak = 0
        if self.state == State.FIRING:
            if self.clear_streak >= keep_firing_for:
                return self._resolve(window_end)
            return None
        if self.state in (State.PENDING, State.NO_DATA):
            return self._to(State.OK)
        return None

    def observe_no_data(self) -> str | None:
        """The newest window could not be judged (too few rows or labels): a pending alert waits."""
        if self.state == State.PENDING:
            return self._to(State.NO_DATA)
        return None

    def _to(self, state: str) -> str:
        self.state = state
        return state

    def _fire(self, at: datetime) -> str:
        self.regressed = self.resolved_at is not None and at - self.resolved_at <= REGRESSION_PERIOD
        self.previous_resolved_at = self.resolved_at
        self.started_at, self.resolved_at, self.announced = at, None, False
        self.acknowledged_at, self.acknowledged_by, self.snoozed_value = None, None, None
        self._flip(at)
        return self._to(State.FIRING)

    def _resolve(self, at: datetime) -> str:
        self.resolved_at = at
        self._flip(at)
        return self._to(State.RESOLVED)

    def _flip(self, at: datetime) -> None:
        recent = [t for t in self.flips if datetime.fromisoformat(t) > at - FLAP_PERIOD]
        self.flips = [*recent, at.isoformat()]
        self.flapping = len(self.flips) >= FLAP_FLIPS

    def worse_than_snooze(self, value: float | None, op: str) -> bool:
        """Snooze until worse: the value moved further past the threshold than when snoozed."""
        if self.snoozed_value is None or value is None:
            return self.snoozed_value is None
        return value < self.snoozed_value if op == "<" else value > self.snoozed_value


class AlertEvent(models.Model):
    """The alert's timeline: each state change, acknowledgement, silence or note, with its window."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(max_length=16)
    note = models.CharField(max_length=300, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    notified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class AlertWindow(models.Model):
    """A window the alert's rule judged: the chart on the alert's page."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="windows")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    breached = models.BooleanField()
    n = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["window_start"]
        constraints = [models.UniqueConstraint(fields=["alert", "window_start"], name="uniq_alert_window")]
