"""Reads for the data scientists' pages (stored results and sketches, never raw rows)."""

from .sketches import (
    Histogram,
    feature_histogram,
    histogram_from_counts,
    profile_summary,
    range_metrics,
    range_sums,
    reference_positive_rate,
    reference_rows,
    score_histograms,
    segments_of,
)
from .windows import (
    WindowRow,
    models_for_overview,
    production_version,
    recent_rows_by_version,
    window_row_from_payload,
    window_rows,
)

__all__ = [
    "Histogram",
    "WindowRow",
    "feature_histogram",
    "histogram_from_counts",
    "models_for_overview",
    "production_version",
    "profile_summary",
    "range_metrics",
    "range_sums",
    "recent_rows_by_version",
    "reference_positive_rate",
    "reference_rows",
    "score_histograms",
    "segments_of",
    "window_row_from_payload",
    "window_rows",
]
