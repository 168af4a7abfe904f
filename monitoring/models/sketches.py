from django.db import models

from .registry import ModelVersion


class Granularity(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"
    WEEK = "week", "Week"  # Monday-aligned rollups, so long ranges read few rows (not analysed)


class ReferenceProfile(models.Model):
    """What a version's reference data looks like, binned once so windows never rescan it.

    ``spec`` holds the small parts (feature kinds, categories, calibration); ``data`` is a
    packed blob (monitoring.engine.sketch_codec) with bin edges, reference counts and a row sample.
    """

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="reference_profile")
    spec = models.JSONField()
    data = models.BinaryField()
    rows = models.IntegerField()
    built_at = models.DateTimeField(auto_now=True)
    # Bumped by every build. Sketches record the generation they were binned with
    # (``binned_with``); ``sketches_generation`` is the one the version's sketches were last
    # all re-folded for, so a re-fold cut short (a killed worker) shows as it lagging behind.
    generation = models.PositiveIntegerField(default=1)
    sketches_generation = models.PositiveIntegerField(null=True)

    class Meta:
        db_table = "monitoring_reference_profile"


class SketchPartial(models.Model):
    """One ingest transaction's contribution to one (version, hour, segment), append-only.

    Appending (never updating) keeps concurrent ingests free of hot-row locks; the
    compaction task claims partials with DELETE ... RETURNING and merges them into
    WindowSketch. ``binned`` is False when folded before the reference profile existed.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, db_index=False)
    hour = models.DateTimeField()
    segment = models.CharField(max_length=100, default="", blank=True)
    binned = models.BooleanField(default=True)
    # Generation of the reference profile whose bins this was folded with; None when
    # folded without one (or carrying nothing binned, like duplicate counts).
    binned_with = models.PositiveIntegerField(null=True)
    data = models.BinaryField()
    sample = models.BinaryField(null=True)  # bounded row sample, apart from the counts
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "monitoring_sketch_partial"
        indexes = [models.Index(fields=["version", "hour"], name="partial_version_hour")]


class WindowSketch(models.Model):
    """Compacted sketch of one version's hour or day (``segment`` "" is all rows)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, db_index=False)
    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    window_start = models.DateTimeField()
    segment = models.CharField(max_length=100, default="", blank=True)
    binned = models.BooleanField(default=True)
    binned_with = models.PositiveIntegerField(null=True)  # as on SketchPartial
    data = models.BinaryField()
    sample = models.BinaryField(null=True)  # bounded row sample, apart from the counts
    # Bumped by every compaction that changed the window: analyses redo windows whose
    # sketch changed after their result was computed.
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "monitoring_window_sketch"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "granularity", "window_start", "segment"], name="uniq_window_sketch"
            )
        ]


class TrackedSegment(models.Model):
    """A segment whose rows get sketches of their own, besides the all-rows sketch.

    The first VIGIL_MAX_SEGMENTS distinct segments a version receives (most frequent of a
    batch first) are tracked; rows of any other segment count in the all-rows sketch only.
    Without a cap, a segment field carrying an id (a customer, a session) would multiply
    the partials written per batch and the windows compacted per hour by its cardinality.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, db_index=False)
    segment = models.CharField(max_length=100)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "monitoring_tracked_segment"
        constraints = [models.UniqueConstraint(fields=["version", "segment"], name="uniq_tracked_segment")]
