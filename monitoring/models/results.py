from django.db import models

from .registry import ModelVersion
from .sketches import Granularity


class AnalysisResult(models.Model):
    """Drift, quality and performance of one window of a version, read by dashboards and alerts.

    ``payload`` layout is documented in monitoring.services.analysis.window_analyse.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, db_index=False)
    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    window_start = models.DateTimeField()
    payload = models.JSONField()
    # The WindowSketch.changed this result was computed from: newer sketch -> recompute.
    sketch_changed = models.DateTimeField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "monitoring_analysis_result"
        constraints = [
            models.UniqueConstraint(fields=["version", "granularity", "window_start"], name="uniq_analysis_result")
        ]
