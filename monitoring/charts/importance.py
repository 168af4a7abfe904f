"""The SHAP importance trend of the model page, with the explain app's jump flags marked."""

from collections.abc import Sequence

from .base import PALETTE, VERMILLION, Figure, empty_figure, layout


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
