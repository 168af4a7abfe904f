"""Model health: one verdict, read by the health API, the overview, the model page and alerts.

Pure (no Django). ``rules``: the primary metric per task and the older row-based rules the
pages' sentences use; ``findings``: Finding, WindowCondition, Health; ``windows``: whether a
window breaches its expected band; ``verdict``: findings from windows' conditions.
"""

from monitoring.health.findings import (
    KINDS,
    SEVERITIES,
    STATUSES,
    Finding,
    Health,
    WindowCondition,
    health_of,
)
from monitoring.health.rules import (
    CRITICAL_QUALITY_FACTOR,
    CRITICAL_SHARE_DRIFTED,
    DROP,
    DROP_MIN_LABELLED,
    LOWER_IS_BETTER,
    PRIMARY_METRIC,
    QUALITY_RATE,
    Row,
    drifted_features,
    health_from_rows,
    join_names,
    majority,
    metric_series,
    performance_drop,
    primary_metric,
)
from monitoring.health.verdict import verdict
from monitoring.health.windows import (
    JUDGED,
    MIN_LABELLED,
    MIN_ROWS,
    Context,
    WindowStats,
    conditions,
    missing_windows,
    window_stats,
)

__all__ = [
    "CRITICAL_QUALITY_FACTOR", "CRITICAL_SHARE_DRIFTED", "DROP", "DROP_MIN_LABELLED", "JUDGED", "KINDS",
    "LOWER_IS_BETTER", "MIN_LABELLED", "MIN_ROWS", "PRIMARY_METRIC", "QUALITY_RATE", "SEVERITIES", "STATUSES",
    "Context", "Finding", "Health", "Row", "WindowCondition", "WindowStats", "conditions", "drifted_features",
    "health_from_rows", "health_of", "join_names", "majority", "metric_series", "missing_windows",
    "performance_drop", "primary_metric", "verdict", "window_stats",
]
