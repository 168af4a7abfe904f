"""Importance trends: SHAP on a daily sample of predictions, mean |SHAP| per feature, flags.

A sudden jump of a feature's importance share often means a leak or a broken upstream
feature, so each day is compared with the trailing 7 days' median and with the reference.
"""

import datetime as dt
import math

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, TextField
from django.db.models.functions import MD5, Cast

from monitoring.models import ModelVersion, Prediction, ReferenceRow
from monitoring.selectors.retention import raw_purged_before

from .models import ImportanceFlag, ImportanceWindow, ModelArtifact
from .runtime import runtime_for
from .selectors import artifact_current, trailing_shares

DEPENDENCE_POINTS = 200
RANK_JUMP = 2
# A share must move by the absolute threshold AND by this factor: +0.05 matters at 0.10, not at 0.60.
SHARE_RATIO = 1.2
NOISE_SE = 2.0  # a share change within two standard errors of the difference is noise
TOP_RANKS = 3  # rank jumps only matter among the top features; lower ranks shuffle from noise
# The permutation explainer costs ~1000 model calls per row: keep its daily sample small.
PERMUTATION_SAMPLE_CAP = 200


def _sample_size(artifact: ModelArtifact) -> int:
    limit = settings.VIGIL_IMPORTANCE_SAMPLE_PER_DAY
    return min(limit, PERMUTATION_SAMPLE_CAP) if artifact.explainer == "permutation" else limit


def importance_summarise(*, names: list[str], shap: np.ndarray) -> list[dict]:
    """(n, features) SHAP -> ``[{"feature", "mean_abs_shap", "share", "share_se", "rank"}]`` in
    schema order. ``share_se`` is the standard error of the share from this sample: the share
    is the mean over rows of |SHAP| / total, so its error is that quantity's sd / sqrt(n)."""
    n = len(shap)
    mean_abs = np.abs(shap).mean(axis=0) if n else np.zeros(len(names))
    total = float(mean_abs.sum())
    order = np.argsort(-mean_abs, kind="stable")
    ranks = np.empty(len(names), dtype=int)
    ranks[order] = np.arange(1, len(names) + 1)
    se = (np.abs(shap) / total).std(axis=0, ddof=1) / math.sqrt(n) if n > 1 and total > 0 else np.zeros(len(names))
    return [
        {"feature": name, "mean_abs_shap": float(mean_abs[j]),
         "share": float(mean_abs[j] / total) if total > 0 else 0.0, "share_se": float(se[j]),
         "rank": int(ranks[j])}
        for j, name in enumerate(names)
    ]


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _window_payload(artifact: ModelArtifact, rows: list[dict]) -> tuple[list[dict], dict]:
    runtime = runtime_for(artifact=artifact)
    names = runtime.feature_names
    if not rows:
        return importance_summarise(names=names, shap=np.zeros((0, len(names)))), {}
    explained = runtime.explain(runtime.frame(rows))
    importances = importance_summarise(names=names, shap=explained.shap)
    take = min(DEPENDENCE_POINTS, len(rows))
    dependence = {
        name: {"x": [_json_value(rows[i].get(name)) for i in range(take)],
               "shap": [float(explained.shap[i, j]) for i in range(take)]}
        for j, name in enumerate(names)
    }
    return importances, dependence


def importance_compute_reference(*, version: ModelVersion, artifact: ModelArtifact) -> ImportanceWindow:
    """Importance over (a sample of) the reference data, once per artifact."""
    limit = _sample_size(artifact)
    rows = list(ReferenceRow.objects.filter(version=version).order_by(MD5(Cast("id", TextField())))
                .values_list("features", flat=True)[:limit])
    importances, dependence = _window_payload(artifact, rows)
    window, _ = ImportanceWindow.objects.update_or_create(
        version=version, day=None,
        defaults={"artifact": artifact, "rows_in_day": len(rows), "rows_explained": len(rows),
                  "importances": importances, "dependence": dependence},
    )
    return window


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def importance_compute_day(*, version: ModelVersion, artifact: ModelArtifact, day: dt.date,
                           rows_in_day: int | None = None) -> ImportanceWindow:
    """SHAP on a sample of ``day``'s predictions (UTC), stored with the day's flags.

    The sample is ordered by a hash of the request_id: as good as random for which rows are
    picked, but the same on every run, so recomputing a day (a new artifact, a backfill)
    changes the importances only when the model or the rows changed, never by chance.
    """
    start, end = _day_bounds(day)
    if day < _first_whole_day(version):
        kept = ImportanceWindow.objects.filter(version=version, day=day).first()
        if kept is None:
            raise ValueError(f"raw rows of {day} were removed by retention: no importance can be computed")
        return kept
    in_day = Prediction.objects.filter(version=version, timestamp__gte=start, timestamp__lt=end)
    if rows_in_day is None:
        rows_in_day = in_day.count()
    rows = list(in_day.order_by(MD5("request_id")).values_list("features", flat=True)[: _sample_size(artifact)])
    importances, dependence = _window_payload(artifact, rows)
    with transaction.atomic():
        window, _ = ImportanceWindow.objects.update_or_create(
            version=version, day=day,
            defaults={"artifact": artifact, "rows_in_day": rows_in_day, "rows_explained": len(rows),
                      "importances": importances, "dependence": dependence},
        )
        importance_flag_day(version=version, window=window)
    return window


def _jump(item: dict, base_share: float, base_rank: float, base_se: float, threshold: float) -> bool:
    change = abs(item["share"] - base_share)
    ratio = max(item["share"], base_share) / max(min(item["share"], base_share), 1e-12)
    # A small daily sample moves shares by chance: the change must also exceed the noise of
    # the difference (NOISE_SE standard errors). Windows stored before share_se count it as 0.
    noise = NOISE_SE * math.hypot(item.get("share_se", 0.0), base_se)
    if change >= max(threshold, noise) and ratio >= SHARE_RATIO:
        return True
    return abs(item["rank"] - base_rank) >= RANK_JUMP and min(item["rank"], base_rank) <= TOP_RANKS


def importance_flag_day(*, version: ModelVersion, window: ImportanceWindow) -> list[ImportanceFlag]:
    """Replace ``window.day``'s flags: share moved by >= the threshold (absolute, and beyond
    two standard errors of the samples) and by >= 20% (relative), or a top-3 rank moved by >= 2."""
    ImportanceFlag.objects.filter(version=version, day=window.day).delete()
    if not window.rows_explained:
        return []
    threshold = settings.VIGIL_IMPORTANCE_SHARE_JUMP
    baselines: dict[str, dict[str, tuple[float, float]]] = {
        ImportanceFlag.Baseline.TRAILING: trailing_shares(version=version, day=window.day),
    }
    reference = ImportanceWindow.objects.filter(version=version, day__isnull=True).first()
    if reference is not None and reference.rows_explained:
        baselines[ImportanceFlag.Baseline.REFERENCE] = {
            i["feature"]: (i["share"], i["rank"], i.get("share_se", 0.0)) for i in reference.importances
        }
    flags = []
    for baseline, shares in baselines.items():
        for item in window.importances:
            if item["feature"] not in shares:
                continue
            base_share, base_rank, base_se = shares[item["feature"]]
            if not _jump(item, base_share, base_rank, base_se, threshold):
                continue
            direction = "rose" if item["share"] > base_share else "fell"
            label = "the trailing 7 days" if baseline == ImportanceFlag.Baseline.TRAILING else "the reference data"
            flags.append(ImportanceFlag(
                version=version, day=window.day, feature=item["feature"], baseline=baseline,
                share=item["share"], baseline_share=base_share, rank=item["rank"], baseline_rank=round(base_rank),
                message=(f"Importance of {item['feature']} {direction} to {item['share']:.0%} of the total "
                         f"(rank {item['rank']}) against {base_share:.0%} (rank {base_rank:g}) in {label}."),
            ))
    ImportanceFlag.objects.bulk_create(flags)
    return flags


def importance_refresh_version(*, version: ModelVersion, since: dt.date | None = None,
                               until: dt.date | None = None, force: bool = False) -> int:
    """Compute the reference importance (once per artifact) and every day not yet computed,
    or whose prediction count changed since. Returns the number of days computed."""
    artifact = artifact_current(version_id=version.pk)
    if artifact is None:
        return 0
    reference = ImportanceWindow.objects.filter(version=version, day__isnull=True).first()
    if force or reference is None or reference.artifact_id != artifact.pk:
        importance_compute_reference(version=version, artifact=artifact)
    bounds = Prediction.objects.filter(version=version).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    if bounds["first"] is None:
        return 0
    first = max(bounds["first"].astimezone(dt.UTC).date(), since or dt.date.min, _first_whole_day(version))
    last = min(bounds["last"].astimezone(dt.UTC).date(), until or dt.date.max)
    done = {w.day: w for w in ImportanceWindow.objects.filter(version=version, day__gte=first, day__lte=last)}
    computed = 0
    day = first
    while day <= last:
        start, end = _day_bounds(day)
        count = Prediction.objects.filter(version=version, timestamp__gte=start, timestamp__lt=end).count()
        window = done.get(day)
        stale = force or window is None or window.rows_in_day != count or window.artifact_id != artifact.pk
        if count and stale:
            importance_compute_day(version=version, artifact=artifact, day=day, rows_in_day=count)
            computed += 1
        day += dt.timedelta(days=1)
    return computed


def _first_whole_day(version: ModelVersion) -> dt.date:
    """The first UTC day whose raw rows retention has not touched: days before keep the
    importances computed while their rows existed (recomputing would shrink their sample)."""
    purged = raw_purged_before(model_id=version.model_id)
    if purged is None:
        return dt.date.min
    day = purged.astimezone(dt.UTC).date()
    return day if _day_bounds(day)[0] == purged else day + dt.timedelta(days=1)


def versions_with_artifacts() -> list[int]:
    return list(ModelArtifact.objects.filter(current=True).values_list("version_id", flat=True))


