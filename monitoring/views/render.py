"""Turning figures into the JSON the page script plots."""

import orjson
from django.utils.safestring import mark_safe


def _plain(figure) -> dict:
    # explain's builders return plotly Figure objects; ours are already dicts.
    return figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure


def figure_json(figure) -> str:
    """Figure -> JSON safe to embed in ``<script type="application/json">``."""
    text = orjson.dumps(_plain(figure), option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NAIVE_UTC).decode()
    # "</" would end the script element early; "<!--" could open a comment.
    return mark_safe(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def chart(chart_id: str, figure, *, description: str = "") -> dict:
    """What the chart include template needs: an id, the JSON and a text alternative."""
    plain = _plain(figure)
    layout = plain.get("layout", {})
    meta = layout.get("meta")
    title = layout.get("title", {})
    return {
        "id": chart_id,
        "json": figure_json(plain),
        "title": title.get("text", "") if isinstance(title, dict) else str(title),
        "empty": isinstance(meta, dict) and bool(meta.get("empty")),
        "description": description,
    }
