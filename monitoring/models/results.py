from django.db import models
from django.utils import timezone

from .registry import ModelVersion
from .sketches import Granularity


class AnalysisResult(models.Model):
    """Drift, quality and performance of one window of a version, read by dashboards and alerts.

    ``payload`` layout is documented in monitoring.engine.window.window_analyse.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, db_index=False)
    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    window_start = models.DateTimeField()
    # "" for all rows; else one of the version's tracked segments (monitoring.models.TrackedSegment).
    segment = models.CharField(max_length=100, default="", blank=True)
    payload = models.JSONField()
    # The WindowSketch.changed_at this result was computed from: newer sketch -> recompute.
    sketch_changed_at = models.DateTimeField()
    # Set by the analysis from the database under the version's lock (monitoring.services.analysis),
    # not auto_now: the worker's clock would let a later result carry an earlier time.
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "monitoring_analysis_result"
        constraints = [
            # Segment before window_start: a page reads one segment's range of windows.
            models.UniqueConstraint(
                fields=["version", "granularity", "segment", "window_start"], name="uniq_analysis_result_segment"
            )
        ]
