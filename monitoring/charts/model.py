"""Figures of the model page. Pure functions over plain lists: no database, no request.

Times are ISO strings (UTC) or datetimes; ``None`` in a value list is a gap in the line.
"""

from collections.abc import Sequence

from .base import (
    BLUE,
    DRIFT_SCALE,
    GREY,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    Figure,
    empty_figure,
    layout,
    secondary_axis,
)

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "mape": "MAPE",
    "macro_f1": "Macro F1",
}


def _any(values: Sequence) -> bool:
    return any(v is not None for v in values)


def performance_figure(
    *,
    times: Sequence,
    metric: str,
    realised: Sequence[float | None],
    estimated: Sequence[float | None],
    coverage: Sequence[float | None],
    unit: str = "",
) -> Figure:
    """Realised metric (solid) where labels exist, label-free estimate (dashed) where they
    do not, and label coverage (%) on a secondary axis."""
    label = METRIC_LABELS.get(metric, metric)
    title = f"Performance over time: {label}"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    if not _any(realised) and not _any(estimated):
        return empty_figure(
            title=title,
            reason="No labels yet and no label-free estimate for this model type in this range.",
        )
    y_title = f"{label} ({unit})" if unit else label
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{label} (realised, from labels)",
            "x": list(times),
            "y": list(realised),
            "line": {"color": BLUE, "width": 2.5},
            "marker": {"size": 5},
            "hovertemplate": f"%{{x}}<br>realised {label}: %{{y:.3f}}<extra></extra>",
        }
    ]
    if _any(estimated):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{label} (estimated, no labels needed)",
                "x": list(times),
                "y": list(estimated),
                "line": {"color": ORANGE, "width": 2, "dash": "dash"},
                "hovertemplate": f"%{{x}}<br>estimated {label}: %{{y:.3f}}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "bar",
            "name": "Label coverage (%)",
            "x": list(times),
            "y": [None if c is None else round(100 * c, 2) for c in coverage],
            "yaxis": "y2",
            "marker": {"color": SKY, "opacity": 0.35},
            "hovertemplate": "%{x}<br>label coverage: %{y:.1f}%<extra></extra>",
        }
    )
    return {
        "data": data,
        "layout": layout(
            title=title,
            y_title=y_title,
            yaxis2=secondary_axis("Label coverage (%)", range=[0, 100]),
            margin={"r": 64},
            barmode="overlay",
        ),
    }


def drift_heatmap_figure(
    *,
    features: Sequence[str],
    times: Sequence,
    values: Sequence[Sequence[float | None]],
    drifted: Sequence[Sequence[bool]],
    links: Sequence[Sequence[str]],
    statistic: str,
) -> Figure:
    """Features (rows) x windows (columns) coloured by PSI or JS; drifted cells marked with
    a dot. ``links[i][j]`` is the feature page URL for that window (plotly customdata),
    which the page's script opens on click."""
    name = "PSI" if statistic == "psi" else "Jensen-Shannon distance"
    title = f"Feature drift vs reference ({name})"
    if not features:
        return empty_figure(title=title, reason="No reference data: drift needs the version's reference profile.")
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    texts = [
        ["drifted" if flag else "stable" for flag in row_flags] for row_flags in drifted
    ]
    data = [
        {
            "type": "heatmap",
            "x": list(times),
            "y": list(features),
            "z": [list(row) for row in values],
            "customdata": [list(row) for row in links],
            "text": texts,
            "colorscale": DRIFT_SCALE,
            "zmin": 0,
            "colorbar": {"title": {"text": name}},
            "xgap": 1,
            "ygap": 1,
            "hovertemplate": f"%{{y}} at %{{x}}<br>{name}: %{{z:.3f}} (%{{text}})<br>click to open<extra></extra>",
        }
    ]
    mark_x, mark_y = [], []
    for feature, row_flags in zip(features, drifted, strict=True):
        for t, flag in zip(times, row_flags, strict=True):
            if flag:
                mark_x.append(t)
                mark_y.append(feature)
    if mark_x:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "drift verdict",
                "x": mark_x,
                "y": mark_y,
                "marker": {"symbol": "circle", "size": 5, "color": "#1d2330"},
                "hoverinfo": "skip",
                "showlegend": True,
            }
        )
    height = max(260, 90 + 22 * len(features))
    return {
        "data": data,
        "layout": layout(
            title=title,
            y_title="Feature",
            height=height,
            yaxis={"autorange": "reversed", "automargin": True},
            margin={"l": 120},
        ),
    }


def drift_share_figure(
    *,
    times: Sequence,
    share: Sequence[float | None],
    multivariate: Sequence[float | None],
    multivariate_threshold: Sequence[float | None],
) -> Figure:
    """Share of drifted features (%) and the multivariate drift score with its threshold."""
    title = "Drifted features and multivariate drift"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    if not _any(share) and not _any(multivariate):
        return empty_figure(title=title, reason="No reference data: drift needs the version's reference profile.")
    data = [
        {
            "type": "bar",
            "name": "Drifted features (%)",
            "x": list(times),
            "y": [None if s is None else round(100 * s, 2) for s in share],
            "marker": {"color": VERMILLION, "opacity": 0.7},
            "hovertemplate": "%{x}<br>drifted features: %{y:.0f}%<extra></extra>",
        }
    ]
    if _any(multivariate):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Multivariate drift (reconstruction error)",
                "x": list(times),
                "y": list(multivariate),
                "yaxis": "y2",
                "line": {"color": BLUE},
                "hovertemplate": "%{x}<br>reconstruction error: %{y:.3f}<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Multivariate threshold",
                "x": list(times),
                "y": list(multivariate_threshold),
                "yaxis": "y2",
                "line": {"color": GREY, "dash": "dot"},
                "hovertemplate": "%{x}<br>threshold: %{y:.3f}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": layout(
            title=title,
            y_title="Drifted features (%)",
            yaxis={"range": [0, 100]},
            yaxis2=secondary_axis("Reconstruction error"),
            margin={"r": 64},
        ),
    }


def prediction_figure(
    *,
    times: Sequence,
    mean: Sequence[float | None],
    std: Sequence[float | None],
    drift: Sequence[float | None],
    drifted: Sequence[bool],
    statistic: str,
    label_rate: Sequence[float | None],
    reference_label_rate: float | None,
    label_shift: Sequence[bool],
    score_title: str = "Score",
) -> Figure:
    """Prediction distribution per window (mean score with a ±1 sd band; windows whose score
    distribution drifted from the reference in vermillion) and the share of positive labels
    (label shift) on a secondary axis, the reference share dotted."""
    name = "PSI" if statistic == "psi" else "JS distance"
    title = "Prediction distribution and label shift"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    if not _any(mean):
        return empty_figure(title=title, reason="No score statistics stored for this range.")
    upper = [None if m is None or s is None else m + s for m, s in zip(mean, std, strict=True)]
    lower = [None if m is None or s is None else m - s for m, s in zip(mean, std, strict=True)]
    data: list[dict] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "mean - 1 sd",
            "x": list(times),
            "y": lower,
            "line": {"width": 0, "color": SKY},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "±1 sd",
            "x": list(times),
            "y": upper,
            "fill": "tonexty",
            "fillcolor": "rgba(86,180,233,0.3)",
            "line": {"width": 0, "color": SKY},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Mean score (vermillion: distribution drifted)",
            "x": list(times),
            "y": list(mean),
            "line": {"color": BLUE, "width": 2},
            "marker": {
                "size": [9 if flag else 4 for flag in drifted],
                "color": [VERMILLION if flag else BLUE for flag in drifted],
            },
            "customdata": [
                [None if d is None else round(d, 4), "drifted" if flag else "stable"]
                for d, flag in zip(drift, drifted, strict=True)
            ],
            "hovertemplate": f"%{{x}}<br>mean score: %{{y:.3f}}<br>{name} vs reference: %{{customdata[0]}} (%{{customdata[1]}})<extra></extra>",
        },
    ]
    if _any(label_rate):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Positive labels (%)",
                "x": list(times),
                "y": [None if v is None else round(100 * v, 2) for v in label_rate],
                "yaxis": "y2",
                "line": {"color": PURPLE},
                "marker": {
                    "symbol": "diamond",
                    "size": [10 if flag else 5 for flag in label_shift],
                    "color": [VERMILLION if flag else PURPLE for flag in label_shift],
                },
                "customdata": ["label shift" if flag else "no shift" for flag in label_shift],
                "hovertemplate": "%{x}<br>positive labels: %{y:.1f}% (%{customdata})<extra></extra>",
            }
        )
        if reference_label_rate is not None:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": "Positive labels, reference (%)",
                    "x": [times[0], times[-1]],
                    "y": [round(100 * reference_label_rate, 2)] * 2,
                    "yaxis": "y2",
                    "line": {"color": PURPLE, "dash": "dot"},
                    "hovertemplate": "reference: %{y:.1f}%<extra></extra>",
                }
            )
    return {
        "data": data,
        "layout": layout(
            title=title,
            y_title=score_title,
            yaxis2=secondary_axis("Positive labels (%)", rangemode="tozero"),
            margin={"r": 64},
        ),
    }


def quality_figure(
    *,
    times: Sequence,
    rates: dict[str, Sequence[float | None]],
    worst: dict[str, Sequence[str | None]],
) -> Figure:
    """Data-quality rates (%) over time: ``rates`` maps "null"/"out_of_range"/"unseen" to
    the worst feature's rate per window, ``worst`` names that feature for the hover."""
    title = "Data quality (worst feature per window)"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    names = {"null": ("Null rate", VERMILLION), "out_of_range": ("Out-of-range rate", ORANGE), "unseen": ("Unseen-category rate", PURPLE)}
    data = []
    for key, (label, colour) in names.items():
        values = rates.get(key, [])
        if not values:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{label} (%)",
                "x": list(times),
                "y": [None if v is None else round(100 * v, 3) for v in values],
                "customdata": [w or "" for w in worst.get(key, [None] * len(values))],
                "line": {"color": colour},
                "marker": {"size": 4},
                "hovertemplate": f"%{{x}}<br>{label}: %{{y:.2f}}% (%{{customdata}})<extra></extra>",
            }
        )
    if not data:
        return empty_figure(title=title, reason="No data-quality results stored for this range.")
    return {"data": data, "layout": layout(title=title, y_title="Rows affected (%)", yaxis={"rangemode": "tozero"})}


def volume_figure(*, times: Sequence, volume: Sequence[int | None], anomalies: Sequence[bool]) -> Figure:
    """Predictions per window, anomalous windows (vs the trailing same-hour median) marked."""
    title = "Prediction volume"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    data = [
        {
            "type": "bar",
            "name": "Predictions",
            "x": list(times),
            "y": list(volume),
            "marker": {"color": BLUE},
            "hovertemplate": "%{x}<br>%{y:,} predictions<extra></extra>",
        }
    ]
    ax = [t for t, flag in zip(times, anomalies, strict=True) if flag]
    ay = [v for v, flag in zip(volume, anomalies, strict=True) if flag]
    if ax:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Volume anomaly",
                "x": ax,
                "y": ay,
                "marker": {"color": VERMILLION, "symbol": "triangle-down", "size": 11},
                "hovertemplate": "%{x}<br>anomalous volume: %{y:,}<extra></extra>",
            }
        )
    return {"data": data, "layout": layout(title=title, y_title="Predictions per window")}


def sparkline_figure(*, times: Sequence, values: Sequence[float | None], label: str) -> Figure:
    """A tiny line without axes for the overview table."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": list(times),
                "y": list(values),
                "line": {"color": BLUE, "width": 1.5},
                "fill": "tozeroy",
                "fillcolor": "rgba(0,114,178,0.15)",
                "hovertemplate": f"%{{x}}<br>%{{y:,}} {label}<extra></extra>",
            }
        ],
        "layout": {
            "height": 48,
            "width": 180,
            "margin": {"l": 2, "r": 2, "t": 2, "b": 2},
            "xaxis": {"visible": False, "title": {"text": "Time (UTC)"}},
            "yaxis": {"visible": False, "title": {"text": label}, "rangemode": "tozero"},
            "showlegend": False,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }

