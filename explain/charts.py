"""Plotly figures for explanations: one decision's waterfall, importance over time, SHAP dependence.

Palette, layout and empty state are the dashboards' (monitoring.charts.base): Okabe-Ito colours,
a title and axis titles with units, hover text, and a sentence saying why a figure is empty.
"""

from collections.abc import Sequence

import plotly.graph_objects as go

from monitoring.charts.base import BLUE, PALETTE, VERMILLION, Figure, empty_figure, layout
from monitoring.models import ModelVersion

from .reasons import format_value

MAX_WATERFALL_FEATURES = 12


def _display(version: ModelVersion, name: str) -> str:
    for feature in version.features:
        if feature["name"] == name:
            return feature.get("display_name") or name
    return name


def waterfall_figure(*, explanation, version: ModelVersion) -> go.Figure:
    """From the base value to this decision's output, one bar per feature (largest first).

    Classifiers are drawn in probability points (percentage points); regression in the
    model's output unit. Features past the top 12 are grouped as "other features".
    """
    title = f"Why this decision: {version.model.name} {version.version}"
    if explanation is None or not explanation.contributions:
        return go.Figure(empty_figure(title=title, reason="No explanation: the version has no model artifact."))
    schema = {f["name"]: f for f in version.features}
    points = explanation.contributions[0].get("probability_points") is not None
    key = "probability_points" if points else "shap"
    top = explanation.contributions[:MAX_WATERFALL_FEATURES]
    rest = explanation.contributions[MAX_WATERFALL_FEATURES:]
    labels = [f"{_display(version, c['feature'])} = {format_value(c['value'], schema.get(c['feature'], {}))}"
              for c in top]
    values = [c[key] for c in top]
    if rest:
        labels.append(f"{len(rest)} other features")
        values.append(sum(c[key] for c in rest))
    if points:
        base = (explanation.base_probability if explanation.base_probability is not None
                else explanation.output - sum(c["shap"] for c in explanation.contributions)) * 100
        unit, axis = "points", "Probability (%)"
    else:
        base, unit = explanation.base_value, ""
        axis = "Model output (raw)"
    # Reverse so the largest factor sits right under the base bar when read top-down.
    fig = go.Figure(go.Waterfall(
        orientation="h",
        measure=["absolute"] + ["relative"] * len(values) + ["total"],
        y=["Average (base)"] + labels + ["This decision"],
        x=[base] + values + [0],
        base=0,
        increasing={"marker": {"color": VERMILLION}},
        decreasing={"marker": {"color": BLUE}},
        totals={"marker": {"color": "#555555"}},
        hovertemplate="%{y}<br>%{x:+.3g} " + unit + "<extra></extra>",
        connector={"line": {"color": "#999999"}},
    ))
    # Plotly hides category labels that would overlap, so give every bar its row (and list the
    # labels explicitly): with 12 features at the default height it showed every other label.
    rows = ["Average (base)"] + labels + ["This decision"]
    row_px, frame_px = 28, 160  # per bar; title and axis
    fig.update_layout(title=title, xaxis_title=axis, yaxis_title="Feature = value", template="plotly_white",
                      yaxis={"autorange": "reversed", "tickmode": "array", "tickvals": rows, "ticktext": rows,
                             "automargin": True},
                      showlegend=False, margin={"l": 220}, height=frame_px + row_px * len(rows))
    return fig


def importance_figure(
    *,
    days: Sequence,
    rows: Sequence[int],
    shares: dict[str, Sequence[float | None]],
    reference: dict[str, float],
    labels: dict[str, str],
    flags: Sequence[tuple[object, str, str]],
    reason: str = "",
) -> Figure:
    """Share of total mean |SHAP| (%) per feature per day, the reference share dotted, and a
    vermillion ring on each (day, feature) the explain app flagged as a jump (hover: why).
    ``shares`` is ordered most important first; ``flags`` are (day, feature, message)."""
    title = "Feature importance over time (SHAP)"
    if not days:
        return empty_figure(title=title, reason=reason or "No predictions with computed importance in this range.")
    data: list[dict] = []
    for k, (feature, values) in enumerate(shares.items()):
        colour = PALETTE[k % len(PALETTE)]
        name = labels.get(feature, feature)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "legendgroup": feature,
                "x": list(days),
                "y": [None if v is None else round(100 * v, 2) for v in values],
                "customdata": list(rows),
                "line": {"color": colour},
                "marker": {"size": 4},
                "hovertemplate": f"{name}<br>%{{x}}: %{{y:.1f}}% of total<br>%{{customdata}} rows explained<extra></extra>",
            }
        )
        if feature in reference:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{name}, reference",
                    "legendgroup": feature,
                    "showlegend": False,
                    "x": [days[0], days[-1]],
                    "y": [round(100 * reference[feature], 2)] * 2,
                    "line": {"color": colour, "dash": "dot", "width": 1},
                    "hovertemplate": f"{name} in the reference: %{{y:.1f}}%<extra></extra>",
                }
            )
    index = {day: i for i, day in enumerate(days)}
    fx, fy, text = [], [], []
    for day, feature, message in flags:
        values = shares.get(feature)
        if values is None or day not in index or values[index[day]] is None:
            continue
        fx.append(day)
        fy.append(round(100 * values[index[day]], 2))
        text.append(f"{labels.get(feature, feature)}: {message}")
    if fx:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Importance jump (flag)",
                "x": fx,
                "y": fy,
                "text": text,
                "marker": {"symbol": "circle-open", "size": 14, "color": VERMILLION, "line": {"width": 2.5}},
                "hovertemplate": "%{x}<br>%{text}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": layout(title=title, x_title="Day (UTC)", y_title="Share of total mean |SHAP| (%)", height=420),
    }


def dependence_figure(*, feature: str, values: Sequence, shap: Sequence[float], unit: str = "", reason: str = "") -> Figure:
    """SHAP dependence: the feature's value against its SHAP contribution (raw model output)."""
    title = f"{feature}: SHAP dependence"
    if not values:
        return empty_figure(title=title, reason=reason or "No SHAP sample in this range.")
    x_title = f"{feature} ({unit})" if unit else feature
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "sampled predictions",
                "x": list(values),
                "y": list(shap),
                "marker": {"color": BLUE, "opacity": 0.5, "size": 6},
                "hovertemplate": f"{feature} = %{{x}}<br>SHAP: %{{y:.3f}}<extra></extra>",
            }
        ],
        "layout": layout(title=title, x_title=x_title, y_title="SHAP value (raw model output)"),
    }
