"""What retention has removed: where a model's raw prediction rows begin (monitoring.services.retention)."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitoring.models import MLModel
from monitoring.services.compaction import week_start


def raw_purged_before(*, model_id: int) -> datetime | None:
    """Raw rows of the model timestamped before this were removed by retention (None: none yet).
    Read fresh from the database: a long-lived object may predate the last retention run."""
    return MLModel.objects.filter(pk=model_id).values_list("raw_purged_before", flat=True).first()


def raw_whole_weeks_from(*, model_id: int) -> datetime | None:
    """The first UTC week whose raw rows are all still there (the week after the retention
    boundary unless it falls on a week start): what a re-fold from raw rows may rebuild whole.
    None when retention removed nothing."""
    purged = raw_purged_before(model_id=model_id)
    if purged is None:
        return None
    start = week_start(purged)
    return start if start == purged else start + timedelta(days=7)


def raw_range_gone(*, model_id: int, start: datetime | None) -> datetime | None:
    """The retention boundary when raw rows from ``start`` (None: from the beginning) are
    partly gone, else None: what pages and commands name when they refuse or warn."""
    purged = raw_purged_before(model_id=model_id)
    if purged is not None and (start is None or start < purged):
        return purged
    return None


def retention_note(*, model: MLModel) -> str:
    """A sentence for pages and 404s saying which raw rows retention removed ("" when none).
    Reads ``model`` as loaded (pages load it per request)."""
    purged = model.raw_purged_before
    if purged is None:
        return ""
    return (f"Raw prediction rows of {model.slug} before {purged:%Y-%m-%d %H:%M} UTC were removed by retention "
            f"(kept {model.raw_retention_days} days): search, lookups and new explanations cover later rows only.")
