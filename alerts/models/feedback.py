from django.conf import settings
from django.db import models
from django.utils import timezone

from .alerts import Alert
from .rules import AlertRule


class Verdict(models.TextChoices):
    USEFUL = "useful"
    FALSE_ALARM = "false_alarm", "false alarm"
    EXPECTED_CHANGE = "expected_change", "expected change"


class Feedback(models.Model):
    """A reader's rating of an alert; a rule's precision is its share of ``useful`` over 90 days."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="feedback")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="feedback")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    rater = models.CharField(max_length=254)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # When the rating was given (or last changed), on the alerts clock: the 90 days count from it.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        # One rating per reader and alert: a second click changes it.
        constraints = [models.UniqueConstraint(fields=["alert", "rater"], name="uniq_feedback_rater")]
