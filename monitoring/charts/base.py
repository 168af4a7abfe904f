"""Shared pieces of every dashboard figure: palette, layout, empty state.

Figures are plain plotly figure dicts (``{"data": [...], "layout": {...}}``): building them
as dicts is several times faster than ``plotly.graph_objects`` validation on every request,
and the tests validate each builder's output with ``plotly.graph_objects.Figure``.
"""

import textwrap
from typing import Any

Figure = dict[str, Any]

# Okabe-Ito: distinguishable with the common forms of colour blindness.
BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, YELLOW = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#E69F00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
)
PALETTE = [BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, YELLOW]
GREY = "#7f7f7f"
# Light to dark through orange: the order survives in greyscale and for deuteranopes.
DRIFT_SCALE = [[0.0, "#f7f7f7"], [0.45, ORANGE], [1.0, VERMILLION]]

FONT = {"family": "system-ui, sans-serif", "size": 12}


def layout(*, title: str, x_title: str = "Time (UTC)", y_title: str = "", height: int = 380, **extra) -> dict:
    """A layout with a title, both axis titles and a compact margin."""
    base = {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "height": height,
        "margin": {"l": 64, "r": 24, "t": 48, "b": 96},
        "colorway": PALETTE,
        "font": FONT,
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def empty_figure(*, title: str, reason: str, height: int = 320) -> Figure:
    """A figure with no data and a centred sentence saying why it is empty."""
    return {
        "data": [],
        "layout": {
            **layout(title=title, height=height, x_title="", y_title=""),
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [
                {
                    "text": "<br>".join(textwrap.wrap(reason, 56)),
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 14, "color": "#5b6475"},
                }
            ],
            "meta": {"empty": True},
        },
    }


def is_empty(figure: Figure) -> bool:
    meta = figure.get("layout", {}).get("meta")
    return isinstance(meta, dict) and bool(meta.get("empty"))


def secondary_axis(title: str, **extra) -> dict:
    """A right-hand y axis with its own round ticks. plotly.js syncs an overlaying axis' ticks to
    the primary gridlines by default, which labels them with values such as 87.1, 65, 43, 20.9."""
    return {
        "title": {"text": title},
        "overlaying": "y",
        "side": "right",
        "tickmode": "auto",
        "showgrid": False,
        **extra,
    }
