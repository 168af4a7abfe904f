"""Figures of the feature and version pages. Pure functions over plain lists."""

from collections.abc import Sequence

from .base import BLUE, GREY, ORANGE, PURPLE, VERMILLION, Figure, empty_figure, layout


def histogram_overlay_figure(
    *,
    feature: str,
    bins: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    unit: str = "",
    window_label: str = "selected window",
    centres: Sequence[float] | None = None,
    widths: Sequence[float] | None = None,
) -> Figure:
    """Reference vs window distribution as overlaid bars of shares (%) per bin or category.
    With ``centres`` (numeric features) bars sit on a numeric axis, ``bins`` label the hover;
    values beyond the reference range fall in the outermost bins."""
    title = f"{feature}: reference vs {window_label}"
    if not bins or not any(reference):
        return empty_figure(title=title, reason="No reference data for this feature: upload the version's reference sample.")
    if not any(current):
        return empty_figure(title=title, reason="No predictions with this feature in the selected window.")
    x_title = f"{feature} ({unit})" if unit else feature
    x = list(centres) if centres else list(bins)
    extra = {"width": list(widths), "customdata": list(bins)} if centres and widths else {"customdata": list(bins)}
    return {
        "data": [
            {
                "type": "bar",
                "name": "Reference (training)",
                "x": x,
                "y": [round(100 * v, 3) for v in reference],
                "marker": {"color": BLUE, "opacity": 0.6},
                "hovertemplate": "%{customdata}<br>reference: %{y:.2f}%<extra></extra>",
                **extra,
            },
            {
                "type": "bar",
                "name": window_label.capitalize(),
                "x": x,
                "y": [round(100 * v, 3) for v in current],
                "marker": {"color": VERMILLION, "opacity": 0.6},
                "hovertemplate": "%{customdata}<br>window: %{y:.2f}%<extra></extra>",
                **extra,
            },
        ],
        "layout": layout(title=title, x_title=x_title, y_title="Share of rows (%)", barmode="overlay", bargap=0.05),
    }


def feature_drift_figure(
    *,
    feature: str,
    times: Sequence,
    psi: Sequence[float | None],
    js: Sequence[float | None],
    psi_threshold: Sequence[float | None],
    js_threshold: Sequence[float | None],
    highlight: object | None = None,
) -> Figure:
    """PSI and JS distance over time with their verdict thresholds (per window: they depend
    on the window's sample size) as dotted lines."""
    title = f"{feature}: drift over time"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    if not any(v is not None for v in [*psi, *js]):
        return empty_figure(title=title, reason="No reference data: drift needs the version's reference profile.")
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "PSI",
            "x": list(times),
            "y": list(psi),
            "line": {"color": BLUE},
            "marker": {"size": 4},
            "hovertemplate": "%{x}<br>PSI: %{y:.3f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Jensen-Shannon distance",
            "x": list(times),
            "y": list(js),
            "line": {"color": ORANGE},
            "marker": {"size": 4, "symbol": "square"},
            "hovertemplate": "%{x}<br>JS: %{y:.3f}<extra></extra>",
        },
    ]
    for values, name, colour in ((psi_threshold, "PSI threshold", BLUE), (js_threshold, "JS threshold", ORANGE)):
        if any(v is not None for v in values):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": list(times),
                    "y": list(values),
                    "line": {"color": colour, "dash": "dot", "width": 1.5},
                    "hovertemplate": f"{name}: %{{y:.3f}}<extra></extra>",
                }
            )
    extra = {}
    if highlight is not None:
        extra["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": highlight,
                "x1": highlight,
                "y0": 0,
                "y1": 1,
                "line": {"color": GREY, "dash": "dash"},
            }
        ]
    return {"data": data, "layout": layout(title=title, y_title="Drift statistic (unitless)", **extra)}


def feature_quality_figure(
    *,
    feature: str,
    times: Sequence,
    null_rate: Sequence[float | None],
    out_of_range_rate: Sequence[float | None],
    unseen_rate: Sequence[float | None],
) -> Figure:
    """One feature's null, out-of-range and unseen-category rates (%) over time."""
    title = f"{feature}: data quality over time"
    if not times:
        return empty_figure(title=title, reason="No predictions in this range.")
    data = []
    for values, name, colour in (
        (null_rate, "Null rate", VERMILLION),
        (out_of_range_rate, "Out-of-range rate", ORANGE),
        (unseen_rate, "Unseen-category rate", PURPLE),
    ):
        if any(v is not None for v in values):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{name} (%)",
                    "x": list(times),
                    "y": [None if v is None else round(100 * v, 3) for v in values],
                    "line": {"color": colour},
                    "marker": {"size": 4},
                    "hovertemplate": f"%{{x}}<br>{name}: %{{y:.2f}}%<extra></extra>",
                }
            )
    if not data:
        return empty_figure(title=title, reason="No data-quality results stored for this feature in this range.")
    return {"data": data, "layout": layout(title=title, y_title="Rows affected (%)", yaxis={"rangemode": "tozero"})}


def score_compare_figure(
    *,
    bins: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    x_title: str = "Score",
) -> Figure:
    """Side-by-side score distributions (share of rows per bin, %) of several versions."""
    title = "Score distribution by version, same range"
    if not bins or not any(any(shares) for _, shares in series):
        return empty_figure(title=title, reason="No predictions of these versions in this range.")
    colours = [BLUE, VERMILLION, ORANGE, PURPLE]
    data = [
        {
            "type": "bar",
            "name": name,
            "x": list(bins),
            "y": [round(100 * v, 3) for v in shares],
            "marker": {"color": colours[i % len(colours)]},
            "hovertemplate": f"{name}<br>%{{x}}: %{{y:.2f}}%<extra></extra>",
        }
        for i, (name, shares) in enumerate(series)
    ]
    return {"data": data, "layout": layout(title=title, x_title=x_title, y_title="Share of predictions (%)", barmode="group")}
