"""Turning pandas DataFrames into the JSON rows the API expects (NaN -> null, UTC ISO times)."""

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

PREDICTION_FIELDS = ("request_id", "version", "timestamp", "score")
PREDICTION_OPTIONAL = ("prediction", "entity_id", "item_id", "segment", "slate_id")
LABEL_FIELDS = ("request_id", "label", "timestamp")
REFERENCE_OPTIONAL = ("score", "label")


def plain(value):
    """A JSON-ready Python value: numpy scalars unwrapped, NaN/NaT/pd.NA -> None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return iso_utc(pd.Timestamp(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    return value


def iso_utc(ts: pd.Timestamp) -> str:
    """ISO 8601 in UTC with a Z; naive times are taken to be UTC already."""
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def column_values(series: pd.Series) -> list:
    """One column as a list of JSON-ready values."""
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
        times = series if isinstance(series.dtype, pd.DatetimeTZDtype) else series.dt.tz_localize("UTC")
        text = times.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return text.where(series.notna(), None).tolist()
    if series.dtype.kind in "biuf":
        # Fast path: one conversion for the whole column instead of per-value checks.
        return series.astype(object).where(series.notna(), None).tolist()
    return [plain(v) for v in series.tolist()]


def infinite_positions(frame: pd.DataFrame, columns: Iterable[str]) -> dict[int, list[str]]:
    """Row position -> names of numeric columns holding +/-inf (JSON cannot carry them)."""
    found: dict[int, list[str]] = {}
    for name in columns:
        series = frame[name]
        if series.dtype.kind != "f":
            continue
        for position in np.flatnonzero(np.isinf(series.to_numpy())):
            found.setdefault(int(position), []).append(f"{name} is not a finite number")
    return found


def feature_columns(frame: pd.DataFrame, known: Iterable[str]) -> list[str]:
    return [c for c in frame.columns if c not in set(known) and c != "features"]


def feature_dicts(frame: pd.DataFrame, known: Iterable[str]) -> list[dict]:
    """The ``features`` of each row: from a column of dicts, else from the remaining columns."""
    if "features" in frame.columns:
        return [plain(v) if isinstance(v, dict) else {} for v in frame["features"].tolist()]
    names = feature_columns(frame, known)
    if not names:
        return [{} for _ in range(len(frame))]
    columns = [column_values(frame[name]) for name in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def rows_from_frame(
    frame: pd.DataFrame, *, fields: tuple[str, ...], optional: tuple[str, ...] = (), features: bool = True
) -> list[dict]:
    """Rows with every ``fields`` key (null when missing) and ``optional`` keys when not null."""
    missing = [name for name in fields if name not in frame.columns]
    if missing:
        raise ValueError(f"DataFrame lacks column(s): {', '.join(missing)}")
    n = len(frame)
    rows: list[dict] = [{} for _ in range(n)]
    for name in fields:
        for row, value in zip(rows, column_values(frame[name]), strict=True):
            row[name] = value
    for name in optional:
        if name not in frame.columns:
            continue
        for row, value in zip(rows, column_values(frame[name]), strict=True):
            if value is not None:
                row[name] = value
    if features:
        known = (*fields, *optional)
        for row, values in zip(rows, feature_dicts(frame, known), strict=True):
            row["features"] = values
    return rows
