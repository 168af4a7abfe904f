from django.db import models

from monitoring.models import MLModel

from .alerts import Alert


class Channel(models.TextChoices):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SLACK = "slack"


class NotificationKind(models.TextChoices):
    FIRING = "firing"
    RESOLVED = "resolved"
    WORSE = "worse"
    FLAPPING = "flapping"
    SILENCE_ENDED = "silence_ended", "silence ended"
    REMINDER = "reminder"
    DIGEST = "digest"


class Status(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notification(models.Model):
    """The outbox: written in the transaction that changed the alerts, claimed by one sender.

    ``subject``/``body_text``/``body_html`` are rendered at write time, so the log shows what went out."""

    model = models.ForeignKey(MLModel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    alerts = models.ManyToManyField(Alert, related_name="notifications", blank=True)
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    severity = models.CharField(max_length=8, default="warning")
    recipient = models.CharField(max_length=500)
    subject = models.CharField(max_length=500)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_after = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "send_after"], name="notification_due")]


class DeliveryAttempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    status_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]


class DigestMark(models.Model):
    """The day a model's daily digest was written: created once, so two workers write it once."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "day"], name="uniq_digest_day")]
