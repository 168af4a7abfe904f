"""The model page: performance, drift, predictions, data quality and importance over a range."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from monitoring.charts.model import (
    drift_heatmap_figure,
    drift_share_figure,
    performance_figure,
    prediction_figure,
    quality_figure,
    ranking_figure,
    volume_figure,
)
from monitoring.models import MLModel
from monitoring.selectors.dashboard import (
    WindowRow,
    production_version,
    reference_positive_rate,
    segments_of,
    window_rows,
)
from monitoring.selectors.freshness import analyses_late_since
from monitoring.selectors.health import health_and_conditions

from .access import scientist_required
from .insights import PRIMARY_METRIC, summarise
from .render import chart
from .sections import HUMAN_AUDIT, IMPORTANCE, LIFECYCLE_MODEL, section
from .state import DashboardState, check_segment, range_links, state_from_query


def model_and_version(slug: str, state: DashboardState):
    model = get_object_or_404(MLModel, slug=slug)
    versions = list(model.versions.all())
    if state.version:
        version = next((v for v in versions if v.version == state.version), None)
        if version is None:
            raise Http404(f"Model {slug} has no version {state.version!r}.")
    else:
        version = production_version(model, versions)
    return model, versions, version


def window_times(rows: list[WindowRow]) -> list[str]:
    return [r.start.isoformat() for r in rows]


def performance_caption(*, estimate_words: str, verdict: dict) -> str:
    """The performance chart's caption, naming only what is drawn."""
    realised = "Realised metric from labels (solid"
    if any(verdict.get("intervals") or []):
        realised += ", with 95% intervals; faint where labels are too few or not in yet, which the verdict does not judge"
    reference = ""
    if verdict.get("reference") is not None:
        reference = "reference (dotted)" + (" and its expected band (shaded)" if verdict.get("band") else "") + ", "
    return f"{realised}), {estimate_words}{reference}label coverage (bars)."


def performance_view(conditions: list, rows: list[WindowRow], metric: str) -> dict:
    """The verdict's view of the performance chart: reference, band, per-window intervals and
    whether each window was judged, from the health conditions of the same windows."""
    by_start = {c.window_start: c for c in conditions if c.kind == "performance" and c.metric == metric}
    judged = [c for c in by_start.values() if c.judged]
    newest = judged[-1] if judged else None
    return {
        "reference": newest.detail.get("reference") if newest else None,
        "band": newest.expected if newest else None,
        "intervals": [(by_start[r.start].detail.get("interval") if r.start in by_start else None) for r in rows],
        "judged": [bool(r.start in by_start and by_start[r.start].judged) for r in rows],
    }


def model_charts(
    *, model, version, rows: list[WindowRow], state: DashboardState, reference_label_rate: float | None = None,
    performance: dict | None = None,
) -> list[dict]:
    """Every chart of the model page, from the range's stored window results."""
    times = window_times(rows)
    metric = PRIMARY_METRIC.get(model.task, "accuracy")
    features = version.feature_names if version else []
    stat = state.stat
    feature_url = {
        name: reverse("monitoring:feature", kwargs={"slug": model.slug, "feature": name}) for name in features
    }
    values, flags, links = [], [], []
    # One query string per page, one window parameter per column: building the full state
    # for each of features x windows cells would dominate the page time.
    base = state.query(window=None)
    windows = [urlencode({"window": r.start.strftime("%Y-%m-%dT%H:%M")}) for r in rows]
    for name in features:
        cells = [r.drift.get(name) or {} for r in rows]
        if not any(cells):
            continue
        values.append([c.get(stat) for c in cells])
        flags.append([bool(c.get("drifted")) for c in cells])
        links.append([f"{feature_url[name]}?{base}&{window}" for window in windows])
    drift_features = [name for name in features if any(r.drift.get(name) for r in rows)]
    display = {f["name"]: f.get("display_name") or f["name"] for f in (version.features if version else [])}
    worst = {key: [r.worst.get(f"{key}_rate", (None, None))[0] for r in rows] for key in ("null", "out_of_range", "unseen")}
    worst_name = {key: [r.worst.get(f"{key}_rate", (None, None))[1] for r in rows] for key in worst}
    rows_with_quality = any(r.quality for r in rows)
    estimated = [r.estimated.get(metric) for r in rows]
    # Name the dashed line only when there is one: regression models have no label-free estimate.
    estimate_words = "label-free estimate (dashed), " if any(v is not None for v in estimated) else ""
    extra = []
    if model.task == "ranking":
        extra.append(chart("ranking", ranking_figure(times=times, metrics=[r.metrics for r in rows]),
                           description="Per window, from the slates (rows sharing a slate_id) and their labels."))
    return [
        *extra,
        chart(
            "performance",
            performance_figure(
                times=times,
                metric=metric,
                realised=[r.metrics.get(metric) for r in rows],
                estimated=estimated,
                coverage=[r.label_coverage for r in rows],
                unit="minutes" if metric in ("mae", "rmse") and model.task == "regression" else "",
                **(performance or {}),
            ),
            description=performance_caption(estimate_words=estimate_words, verdict=performance or {}),
        ),
        chart(
            "drift-heatmap",
            drift_heatmap_figure(
                features=[display[name] for name in (drift_features if rows else features)],
                times=times,
                values=values,
                drifted=flags,
                links=links,
                statistic=stat,
            ),
            description="Click a cell to open that feature for that window.",
        ),
        chart(
            "drift-share",
            drift_share_figure(
                times=times,
                share=[r.share_drifted for r in rows],
                multivariate=[r.multivariate for r in rows],
                multivariate_threshold=[r.multivariate_threshold for r in rows],
            ),
        ),
        chart(
            "predictions",
            prediction_figure(
                times=times,
                mean=[r.score.get("mean") for r in rows],
                std=[r.score.get("std") for r in rows],
                drift=[r.score.get(stat) for r in rows],
                drifted=[bool(r.score.get("drifted")) for r in rows],
                statistic=stat,
                score_title="Score (probability)" if model.task == "binary_classification" else "Predicted value",
                label_rate=[r.label_rate for r in rows],
                reference_label_rate=reference_label_rate,
                label_shift=[r.label_shift for r in rows],
            ),
            description="Larger vermillion markers: windows whose score or label distribution shifted.",
        ),
        chart(
            "quality",
            quality_figure(times=times, rates=worst if rows_with_quality else {}, worst=worst_name),
        ),
        chart(
            "volume",
            volume_figure(times=times, volume=[r.rows for r in rows], anomalies=[r.volume_anomaly for r in rows]),
        ),
    ]


@scientist_required
def model_page(request, slug: str):
    state, errors = state_from_query(request.GET)
    model, versions, version = model_and_version(slug, state)
    segments = segments_of(version=version) if version else []
    state = check_segment(state, segments, errors)
    rows = (
        window_rows(version=version, granularity=state.granularity, start=state.start, end=state.end,
                    segment=state.segment)
        if version
        else []
    )
    reference_rate = reference_positive_rate(version=version) if version and model.task == "binary_classification" else None
    metric = PRIMARY_METRIC.get(model.task, "accuracy")
    health, conditions = (
        health_and_conditions(version=version, granularity=state.granularity, start=state.start, end=state.end,
                              segment=state.segment)
        if version else (None, [])
    )
    charts = model_charts(model=model, version=version, rows=rows, state=state, reference_label_rate=reference_rate,
                          performance=performance_view(conditions, rows, metric) if conditions else None)
    audit = section(
        HUMAN_AUDIT, model=model, start=state.start, end=state.end, times=window_times(rows),
        realised=[r.metrics.get("accuracy") for r in rows], estimated=[r.estimated.get("accuracy") for r in rows],
    )  # fmt: skip
    if audit:
        charts.insert(1, audit)
    importance = section(IMPORTANCE, version=version, start=state.start, end=state.end) if version else None
    if importance and state.segment:
        chart_ = importance["chart"]
        chart_["description"] = " ".join(filter(None, [chart_.get("description"), "Computed on all segments."]))
    labels = {f["name"]: f.get("display_name") or f["name"] for f in (version.features if version else [])}
    # Spikes are read at the finest granularity with results: a day's 24% nulls may be an hour's 40%.
    fine = (
        window_rows(version=version, granularity="hour", start=state.start, end=state.end, segment=state.segment)
        # Only a day with some nulls, out-of-range or unseen values can hide an hour's peak.
        if version and state.granularity == "day" and any(any(v for v, _ in r.worst.values()) for r in rows)
        else None
    )
    summary = summarise(
        rows=rows, granularity=state.granularity, metric=PRIMARY_METRIC.get(model.task, "accuracy"), labels=labels,
        fine=fine,
    )
    context = {
        "nav": "dashboards",
        "health": health,
        "model": model,
        "versions": versions,
        "version": version,
        "state": state,
        "errors": errors,
        "ranges": range_links(state),
        "charts": charts,
        "importance": importance,
        "lifecycle": section(LIFECYCLE_MODEL, request=request, model=model),
        "summary": summary,
        "features": version.features if version else [],
        "window_count": len(rows),
        "segments": segments,
        "analyses_late_since": analyses_late_since(version=version) if version else None,
    }
    return render(request, "monitoring/model.html", context)
