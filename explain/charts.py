"""Plotly figures for explanations: one decision's waterfall, importance over time, a summary.

Okabe-Ito colours (colour-blind safe); every figure has a title, axis titles with units,
hover text, and an explicit empty state saying why there is nothing to draw.
"""

import datetime as dt

import numpy as np
import plotly.graph_objects as go

from monitoring.models import ModelVersion

from .reasons import format_value
from .selectors import artifact_current, importance_reference, importance_trend

BLUE, VERMILLION, GREEN, ORANGE, SKY, PINK, YELLOW = (
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442")
PALETTE = [BLUE, VERMILLION, GREEN, ORANGE, SKY, PINK, YELLOW, "#000000"]
MAX_WATERFALL_FEATURES = 12


def empty_figure(*, title: str, reason: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title, xaxis={"visible": False}, yaxis={"visible": False}, template="plotly_white",
        annotations=[{"text": reason, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                      "font": {"size": 14}}],
    )
    return fig


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
        return empty_figure(title=title, reason="No explanation: the version has no model artifact.")
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


def _trend_or_reason(version: ModelVersion, start, end) -> tuple[list, str | None]:
    """The importance trend of the range, or why a chart of it would be empty."""
    if artifact_current(version_id=version.pk) is None:
        return [], "No model artifact uploaded for this version."
    trend = importance_trend(version=version, start=start, end=end)
    return trend, None if trend else "No predictions with computed importance in this range."


def _top_features(trend: list, key: str, top: int) -> list[str]:
    """The ``top`` features by ``key`` summed over the trend's days, largest first."""
    total: dict[str, float] = {}
    for day in trend:
        for item in day["features"]:
            total[item["feature"]] = total.get(item["feature"], 0.0) + item[key]
    return sorted(total, key=lambda f: -total[f])[:top]


def importance_trend_figure(*, version: ModelVersion, start: dt.datetime | None = None,
                            end: dt.datetime | None = None, top: int = 8) -> go.Figure:
    """Share of total mean |SHAP| per feature per UTC day; the reference share as dotted lines."""
    title = f"Feature importance over time: {version.model.name} {version.version}"
    trend, reason = _trend_or_reason(version, start, end)
    if reason:
        return empty_figure(title=title, reason=reason)
    chosen = _top_features(trend, "share", top)
    reference = importance_reference(version=version)
    ref_shares = {i["feature"]: i["share"] for i in reference["features"]} if reference else {}
    fig = go.Figure()
    days = [d["day"] for d in trend]
    rows = [d["rows"] for d in trend]
    for k, name in enumerate(chosen):
        colour = PALETTE[k % len(PALETTE)]
        shares = [next((i["share"] * 100 for i in d["features"] if i["feature"] == name), None) for d in trend]
        fig.add_trace(go.Scatter(
            x=days, y=shares, mode="lines+markers", name=_display(version, name), line={"color": colour},
            customdata=rows, hovertemplate=f"{_display(version, name)}<br>%{{x}}: %{{y:.1f}}% of total"
                                           "<br>%{customdata} rows explained<extra></extra>"))
        if name in ref_shares:
            fig.add_trace(go.Scatter(
                x=[days[0], days[-1]], y=[ref_shares[name] * 100] * 2, mode="lines", showlegend=False,
                line={"color": colour, "dash": "dot"}, hovertemplate=f"{_display(version, name)} reference: "
                                                                      "%{y:.1f}%<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="Day (UTC)", yaxis_title="Share of total mean |SHAP| (%)",
                      template="plotly_white", legend_title="Feature (dotted: reference)")
    return fig


def importance_summary_figure(*, version: ModelVersion, start: dt.datetime | None = None,
                              end: dt.datetime | None = None, top: int = 10) -> go.Figure:
    """Beeswarm-like: one row per feature, a dot per sampled prediction at its SHAP value,
    coloured from low (blue) to high (vermillion) feature value (grey for categories/missing)."""
    from .selectors import dependence_sample

    title = f"SHAP summary: {version.model.name} {version.version}"
    trend, reason = _trend_or_reason(version, start, end)
    if reason:
        return empty_figure(title=title, reason=reason)
    chosen = _top_features(trend, "mean_abs_shap", top)
    fig = go.Figure()
    rng = np.random.default_rng(0)
    for row, name in enumerate(reversed(chosen)):
        sample = dependence_sample(version=version, feature=name, start=start, end=end)
        shap = np.asarray(sample["shap"], dtype=float)
        numeric = [v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan for v in sample["x"]]
        values = np.asarray(numeric, dtype=float)
        finite = np.isfinite(values)
        colour = np.full(len(values), 0.5)
        if finite.any():
            low, high = np.nanpercentile(values, 5), np.nanpercentile(values, 95)
            colour[finite] = np.clip((values[finite] - low) / (high - low or 1.0), 0, 1)
        fig.add_trace(go.Scatter(
            x=shap, y=row + rng.uniform(-0.3, 0.3, len(shap)), mode="markers", name=_display(version, name),
            marker={"size": 5, "color": colour, "colorscale": [[0, BLUE], [1, VERMILLION]], "cmin": 0, "cmax": 1,
                    "opacity": 0.6, "showscale": row == len(chosen) - 1,
                    "colorbar": {"title": "Feature value", "tickvals": [0, 1], "ticktext": ["low", "high"]}},
            text=[f"{_display(version, name)} = {v}" for v in sample["x"]], showlegend=False,
            hovertemplate="%{text}<br>SHAP %{x:+.3g} (raw output units)<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="SHAP value (model raw output units)", yaxis_title="Feature",
                      template="plotly_white",
                      yaxis={"tickvals": list(range(len(chosen))),
                             "ticktext": [_display(version, n) for n in reversed(chosen)]})
    fig.add_vline(x=0, line_color="#999999")
    return fig
