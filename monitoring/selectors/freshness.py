"""Whether a version's analyses keep up with its data (the model page says so when not)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from monitoring.models import AnalysisResult, ModelVersion, ReferenceProfile, SketchPartial, WindowSketch


def analyses_late_since(*, version: ModelVersion) -> datetime | None:
    """When the oldest data not yet analysed arrived, if longer ago than VIGIL_ANALYSIS_LATE_SECONDS.

    Compaction (every VIGIL_COMPACT_SECONDS) merges partial sketches into windows and then
    analyses changed windows. A partial still waiting, or a window changed but not analysed,
    after several periods means the worker or beat is not running. None when on time.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.VIGIL_ANALYSIS_LATE_SECONDS)
    moments = [SketchPartial.objects.filter(version=version, created_at__lt=cutoff).aggregate(at=Min("created_at"))["at"]]
    if ReferenceProfile.objects.filter(version=version).exists():  # no profile: nothing can be analysed
        analysed = AnalysisResult.objects.filter(
            version=version,
            granularity=OuterRef("granularity"),
            window_start=OuterRef("window_start"),
            segment=OuterRef("segment"),
            sketch_changed_at__gte=OuterRef("changed_at"),
        )
        pending = WindowSketch.objects.filter(version=version, granularity__in=("hour", "day"), changed_at__lt=cutoff)
        moments.append(pending.exclude(Exists(analysed)).aggregate(at=Min("changed_at"))["at"])
    moments = [moment for moment in moments if moment is not None]
    return min(moments) if moments else None
