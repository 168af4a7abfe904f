from django.conf import settings
from django.db import models

from monitoring.models import MLModel

from .rules import AlertRule


class Silence(models.Model):
    """While it matches (model, and the rule or kind when given), nothing is sent; alerts still change state."""

    model = models.ForeignKey(MLModel, on_delete=models.CASCADE, related_name="alert_silences")
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="silences")
    kind = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_by_name = models.CharField(max_length=150, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Set by the one worker that announced the end (claimed with an atomic update).
    end_announced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at", "-id"]

    def matches(self, alert) -> bool:
        return (
            alert.model_id == self.model_id
            and (self.rule_id is None or self.rule_id == alert.rule_id)
            and (not self.kind or self.kind == alert.kind)
        )
