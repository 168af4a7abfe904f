"""The feature page: reference vs window histogram, drift and quality over time, SHAP dependence."""

from django.http import Http404
from django.shortcuts import render

from monitoring.charts.base import empty_figure
from monitoring.charts.feature import feature_drift_figure, feature_quality_figure, histogram_overlay_figure
from monitoring.engine.evaluate import drift_settings
from monitoring.engine.stats.thresholds import DEFAULT_BINS, default_thresholds
from monitoring.selectors.dashboard import (
    WindowRow,
    feature_histogram,
    reference_rows,
    segments_of,
    window_rows,
)

from .access import scientist_required
from .model import model_and_version, window_times
from .render import chart
from .sections import DEPENDENCE, section
from .state import check_segment, range_links, state_from_query


def threshold_series(*, rows: list[WindowRow], n_ref: int, n_bins: int, model_settings: dict) -> list:
    """The drift verdict's thresholds per window: they depend on the window's sample size
    (the noise floor) and the model's minimum effect, as in the engine's verdict."""
    opts = drift_settings(model_settings)
    return [
        default_thresholds(n_ref, r.rows, n_bins=n_bins, **opts) if n_ref and r.rows else None for r in rows
    ]


def _when(state) -> str:
    fmt = "%Y-%m-%d %H:00" if state.granularity == "hour" else "%Y-%m-%d"
    return state.window.strftime(fmt)


@scientist_required
def feature_page(request, slug: str, feature: str):
    state, errors = state_from_query(request.GET)
    model, versions, version = model_and_version(slug, state)
    if version is None:
        raise Http404(f"Model {slug} has no version yet.")
    spec = next((f for f in version.features if f["name"] == feature), None)
    if spec is None:
        raise Http404(f"Version {version.version} has no feature {feature!r}.")
    label = spec.get("display_name") or feature
    unit = spec.get("unit") or ""
    segments = segments_of(version=version)
    state = check_segment(state, segments, errors)
    rows = window_rows(version=version, granularity=state.granularity, start=state.start, end=state.end,
                       segment=state.segment)
    times = window_times(rows)
    if state.window is not None:
        window_start, window_end = state.window, state.window + state.step
        window_label = f"window {_when(state)}"
    else:
        window_start, window_end = state.start, state.end
        window_label = "selected range"
    if state.segment:
        window_label += f", segment {state.segment}"
    histogram = feature_histogram(
        version=version, feature=feature, start=window_start, end=window_end, segment=state.segment
    )
    if histogram is None:
        overlay = empty_figure(
            title=f"{label}: reference vs {window_label}",
            reason="No reference data for this version: upload its reference sample to compare distributions.",
        )
    else:
        overlay = histogram_overlay_figure(
            feature=label, bins=histogram.bins, reference=histogram.reference, current=histogram.current,
            unit=unit, window_label=window_label, centres=histogram.centres, widths=histogram.widths,
        )
    cells = [r.drift.get(feature) or {} for r in rows]
    n_bins = len(spec.get("categories") or []) + 1 if spec.get("type") == "categorical" else DEFAULT_BINS
    n_bins = 2 if spec.get("type") == "boolean" else n_bins
    thresholds = threshold_series(
        rows=rows, n_ref=reference_rows(version=version), n_bins=n_bins, model_settings=model.settings
    )
    quality = [r.quality.get(feature) or {} for r in rows]
    charts = [
        chart("histogram", overlay, description="Share of rows per bin: reference (blue) vs window (vermillion)."),
        chart(
            "feature-drift",
            feature_drift_figure(
                feature=label,
                times=times,
                psi=[c.get("psi") for c in cells],
                js=[c.get("js") for c in cells],
                psi_threshold=[t.psi if t else None for t in thresholds],
                js_threshold=[t.js if t else None for t in thresholds],
                highlight=state.window.isoformat() if state.window else None,
            ),
        ),
        chart(
            "feature-quality",
            feature_quality_figure(
                feature=label,
                times=times,
                null_rate=[q.get("null_rate") for q in quality],
                out_of_range_rate=[q.get("out_of_range_rate") for q in quality],
                unseen_rate=[q.get("unseen_rate") for q in quality],
            ),
        ),
    ]
    dependence = section(
        DEPENDENCE, version=version, feature=feature, label=label, start=state.start, end=state.end, unit=unit
    )
    if dependence is not None:
        charts.append(dependence)
    drifted_windows = sum(1 for c in cells if c.get("drifted"))
    context = {
        "nav": "dashboards",
        "model": model,
        "version": version,
        "versions": versions,
        "feature": spec,
        "label": label,
        "state": state,
        "errors": errors,
        "charts": charts,
        "drifted_windows": drifted_windows,
        "window_count": len(rows),
        "window_label": window_label,
        "back": f"?{state.query(window=None)}",
        "ranges": range_links(state),
        "segments": segments,
    }
    return render(request, "monitoring/feature.html", context)
