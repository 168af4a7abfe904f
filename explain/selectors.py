"""Reads for explanations and importance trends (used by the API, ops console and dashboards)."""

import datetime as dt
import statistics

from monitoring.models import ModelVersion, Prediction, ReferenceRow

from .models import Explanation, ImportanceFlag, ImportanceWindow, ModelArtifact


def artifact_current(*, version_id: int) -> ModelArtifact | None:
    return ModelArtifact.objects.filter(version_id=version_id, current=True).select_related("version__model").first()


def explanation_kept(*, model_id: int, request_id: str, version: str | None = None) -> Explanation | None:
    """The stored explanation of ``request_id`` read from the explanation alone (its raw row may
    be gone by retention): the served prediction's, or version label ``version``'s when given."""
    found = Explanation.objects.filter(model_id=model_id, request_id=request_id)
    if version is not None:
        found = found.filter(version__version=version)
    return found.select_related("model", "version__model").order_by("-served", "predicted_at", "id").first()


def background_rows(*, version: ModelVersion, limit: int = 1000) -> list[dict]:
    """Feature dicts for the explainer background: reference rows, else the version's predictions."""
    rows = list(ReferenceRow.objects.filter(version=version).order_by("id").values_list("features", flat=True)[:limit])
    if not rows:
        rows = list(
            Prediction.objects.filter(version=version).order_by("timestamp").values_list("features", flat=True)[:limit]
        )
    if not rows:
        from .frames import synthetic_row

        rows = [synthetic_row(schema=version.features)]
    return rows


def _day_range(start: dt.datetime | dt.date | None, end: dt.datetime | dt.date | None) -> dict:
    filters: dict = {"day__isnull": False}
    if start is not None:
        filters["day__gte"] = start.date() if isinstance(start, dt.datetime) else start
    if end is not None:
        # ``end`` is exclusive: a window whose day starts at or after it is out.
        end_day = end.date() if isinstance(end, dt.datetime) else end
        if isinstance(end, dt.datetime) and end.time() != dt.time(0):
            end_day = end_day + dt.timedelta(days=1)
        filters["day__lt"] = end_day
    return filters


def importance_trend(*, version: ModelVersion, start=None, end=None) -> list[dict]:
    """``[{"day": date, "rows": n, "features": [{"feature", "mean_abs_shap", "share", "rank"}]}]``, by day."""
    windows = ImportanceWindow.objects.filter(version=version, **_day_range(start, end)).order_by("day")
    return [
        {"day": w.day, "rows": w.rows_explained, "features": w.importances}
        for w in windows.only("day", "rows_explained", "importances")
    ]


def importance_reference(*, version: ModelVersion) -> dict | None:
    """The reference data's importance: ``{"rows", "features": [...]}`` or None if not computed."""
    window = ImportanceWindow.objects.filter(version=version, day__isnull=True).first()
    if window is None:
        return None
    return {"rows": window.rows_explained, "features": window.importances, "dependence": window.dependence}


def dependence_sample(*, version: ModelVersion, feature: str, start=None, end=None) -> dict:
    """Feature value vs SHAP for ``feature`` over the days in range: ``{"x": [...], "shap": [...]}``."""
    xs: list = []
    shaps: list[float] = []
    windows = ImportanceWindow.objects.filter(version=version, **_day_range(start, end)).order_by("day")
    for dependence in windows.values_list("dependence", flat=True):
        sample = dependence.get(feature) or {}
        xs.extend(sample.get("x", []))
        shaps.extend(sample.get("shap", []))
    return {"x": xs, "shap": shaps}


def importance_flags(*, version: ModelVersion, start=None, end=None) -> list[dict]:
    """Importance jumps: ``[{"day", "feature", "baseline", "share", "baseline_share", "rank",
    "baseline_rank", "message"}]`` ordered by day."""
    flags = ImportanceFlag.objects.filter(version=version, **_day_range(start, end)).order_by("day", "feature")
    return list(
        flags.values("day", "feature", "baseline", "share", "baseline_share", "rank", "baseline_rank", "message")
    )


def trailing_shares(
    *, version: ModelVersion, day: dt.date, days: int = 7
) -> dict[str, tuple[float, float, float]]:
    """Median share, median rank and median share standard error per feature over the
    ``days`` windows before ``day``."""
    windows = ImportanceWindow.objects.filter(
        version=version, day__lt=day, day__gte=day - dt.timedelta(days=days)
    ).values_list("importances", flat=True)
    shares: dict[str, list[float]] = {}
    ranks: dict[str, list[int]] = {}
    errors: dict[str, list[float]] = {}
    for importances in windows:
        for item in importances:
            shares.setdefault(item["feature"], []).append(item["share"])
            ranks.setdefault(item["feature"], []).append(item["rank"])
            errors.setdefault(item["feature"], []).append(item.get("share_se", 0.0))
    return {f: (statistics.median(shares[f]), statistics.median(ranks[f]), statistics.median(errors[f])) for f in shares}
