"""One analysed window: the payload stored per (version, granularity, window, segment).

Pure: the scheduled analysis (monitoring.services.analysis) feeds it sketches and the
profile, and stores what it returns.
"""

from __future__ import annotations

import math

import numpy as np

from monitoring.engine.evaluate import drift_report, multivariate_report, quality_report
from monitoring.engine.perf_report import performance_report, reference_counts, reference_performance
from monitoring.engine.profile import Profile
from monitoring.engine.sketch_codec import Sketch, moments_of
from monitoring.engine.stats.quality import volume_anomaly
from monitoring.health import performance_drop


def clean(value):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None (jsonb refuses them)."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _score_summary(sketch: Sketch) -> dict | None:
    m = sketch.arrays.get("m:__score__")
    if m is None or not m[0]:
        return None
    moments = moments_of(m)
    return {"mean": moments.mean, "std": moments.std, "min": moments.min, "max": moments.max}


def window_analyse(
    *,
    model_settings: dict,
    profile: Profile,
    sketch: Sketch,
    previous: Sketch | None,
    volume_history: list[int],
    first_window: bool,
    binned: bool,
    light: bool = False,
    catalogue_size: int | None = None,
) -> dict:
    """The stored payload of one window: ``rows``, ``drift`` (per feature vs reference and vs
    the previous window, score, label shift, share drifted), ``multivariate``, ``quality``
    (+ ``volume`` anomaly), ``performance`` (+ ``estimated``), ``performance_drop``,
    ``reference`` (its metrics and labelled counts), ``shifts`` {covariate, prior, concept} and
    ``skew`` (first production window only).
    ``light`` (hour windows): drift as effect sizes + verdicts, without p-values/Wasserstein:
    hourly trends need the verdicts, and p-values are most of the cost."""
    layout = profile.layout
    drift = drift_report(
        profile=profile, sketch=sketch, model_settings=model_settings, previous=previous, light=light
    )
    quality = quality_report(profile_layout=layout, sketch=sketch)
    quality["volume"] = volume_anomaly(np.array(volume_history), quality["rows"])
    performance = performance_report(
        layout=layout, sketch=sketch, calibrator=profile.spec.get("calibrator"), catalogue_size=catalogue_size
    )
    multivariate = multivariate_report(profile=profile, sketch=sketch)
    reference = reference_performance(layout=layout, profile_arrays=profile.arrays)
    drop = performance_drop(layout.task, reference, performance)
    covariate = bool(drift["drifted_features"]) or bool(multivariate and multivariate["drifted"])
    # Inputs are stable when no feature moved since the previous window (a covariate shift
    # that happened earlier and stayed does not explain a fall that starts later).
    if previous is not None:
        stable = not any((f.get("vs_previous") or {}).get("drifted") for f in drift["features"])
    else:
        stable = not covariate
    shifts = {
        "covariate": covariate,
        "prior": bool(drift["label_shift"] and drift["label_shift"]["drifted"]),
        # Performance fell while the inputs stayed put: the relation x -> y changed.
        "concept": bool(drop and drop["fell"] and stable),
    }
    return clean(
        {
            "rows": quality["rows"],
            "binned": binned,
            "score": _score_summary(sketch),
            "drift": drift,
            "multivariate": multivariate,
            "quality": quality,
            "performance": performance,
            "performance_drop": drop,
            # The reference's metrics and counts, so a verdict reads one stored row, not the profile.
            "reference": {"metrics": reference, "counts": reference_counts(profile_arrays=profile.arrays)},
            "shifts": shifts,
            "skew": {"drifted_features": drift["drifted_features"]} if first_window else None,
        }
    )
