"""Turning stored feature dicts into the model's input frame, following the version's schema.

Encoding (documented in docs/explanations.md): columns in schema order; numeric as float64
with NaN for null; boolean as 0.0/1.0; categorical as pandas ``category`` dtype whose
categories are the schema's ``categories`` list in that order, so codes are stable. For
scikit-learn pipelines (``raw=True``) categorical columns stay plain strings (object dtype)
because the pipeline does its own encoding.
"""

import math

import numpy as np
import pandas as pd


def _number(value) -> float:
    if value is None or isinstance(value, str):
        try:
            return float(value) if value not in (None, "") else math.nan
        except ValueError:
            return math.nan
    return float(value)


def features_frame(*, schema: list[dict], rows: list[dict], raw: bool = False) -> pd.DataFrame:
    """``rows`` (feature name -> value dicts) -> DataFrame with one column per schema feature."""
    columns: dict[str, object] = {}
    for feature in schema:
        name = feature["name"]
        values = [row.get(name) for row in rows]
        kind = feature.get("type", "numeric")
        if kind == "categorical":
            strings = [None if v is None else str(v) for v in values]
            if raw:
                columns[name] = pd.Series(strings, dtype=object)
            else:
                columns[name] = pd.Categorical(strings, categories=list(feature.get("categories") or []))
        elif kind == "boolean":
            columns[name] = np.array(
                [math.nan if v is None else float(bool(v) if not isinstance(v, str) else v.lower() == "true")
                 for v in values],
                dtype=np.float64,
            )
        else:
            columns[name] = np.array([_number(v) for v in values], dtype=np.float64)
    return pd.DataFrame(columns, index=range(len(rows)))


def synthetic_row(*, schema: list[dict]) -> dict:
    """One plausible row from the schema alone, to prove the model accepts the input shape."""
    row: dict = {}
    for feature in schema:
        kind = feature.get("type", "numeric")
        if kind == "categorical":
            categories = feature.get("categories") or []
            row[feature["name"]] = categories[0] if categories else None
        elif kind == "boolean":
            row[feature["name"]] = False
        else:
            low, high = feature.get("min"), feature.get("max")
            row[feature["name"]] = (low + high) / 2 if low is not None and high is not None else (low or 0.0)
    return row
