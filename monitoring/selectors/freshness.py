"""Whether a version's analyses keep up with its data (the model page says so when not)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from monitoring.models import ModelVersion

LATE_SQL = """
SELECT LEAST(
  (SELECT min(created_at) FROM monitoring_sketch_partial WHERE version_id = %(v)s AND created_at < %(cutoff)s),
  (SELECT min(ws.changed_at) FROM monitoring_window_sketch ws
    WHERE ws.version_id = %(v)s AND ws.granularity IN ('hour', 'day') AND ws.changed_at < %(cutoff)s
      -- no profile: nothing can be analysed, so nothing is late
      AND EXISTS (SELECT 1 FROM monitoring_reference_profile rp WHERE rp.version_id = %(v)s)
      AND NOT EXISTS (SELECT 1 FROM monitoring_analysis_result ar
                       WHERE ar.version_id = ws.version_id AND ar.granularity = ws.granularity
                         AND ar.window_start = ws.window_start AND ar.segment = ws.segment
                         AND ar.sketch_changed_at >= ws.changed_at)))
"""


def analyses_late_since(*, version: ModelVersion) -> datetime | None:
    """When the oldest data not yet analysed arrived, if longer ago than VIGIL_ANALYSIS_LATE_SECONDS.

    Compaction (every VIGIL_COMPACT_SECONDS) merges partial sketches into windows and then
    analyses changed windows. A partial still waiting, or a window changed but not analysed,
    after several periods means the worker or beat is not running. None when on time. One
    query (the model page counts its queries).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.VIGIL_ANALYSIS_LATE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(LATE_SQL, {"v": version.pk, "cutoff": cutoff})
        return cursor.fetchone()[0]
