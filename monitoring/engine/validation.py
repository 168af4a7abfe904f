"""Column-wise validation of ingested batches against a version's feature schema.

Rows arrive as a list of dicts (parsed by orjson). Instead of a serializer per row, every
field is pulled out once as a column and checked with set-of-types fast paths and numpy
masks; only flagged rows are visited one by one to write their reasons.
Hard errors reject a row; soft problems (null in a non-nullable feature, out of range,
unseen category, keys not in the schema) are kept as masks so that they can be counted
for the rows that end up stored.

Pure (no Django): the caps on hostile input come in as ``Limits``, which the services fill
from the settings (``monitoring.services.ingest.input_limits``, ``quality_bound``'s limit).
"""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
import pandas as pd

NoneType = type(None)
NUMBER = frozenset({int, float})
TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", NoneType: "null",
              dict: "object", list: "array"}
# Timestamps must fit pandas' nanosecond span (1677-09-21 to 2262-04-11); whole years only.
MIN_YEAR, MAX_YEAR = 1678, 2261
MIN_NS = int(pd.Timestamp(f"{MIN_YEAR}-01-01", tz="UTC").value)
MAX_NS = int(pd.Timestamp(f"{MAX_YEAR + 1}-01-01", tz="UTC").value) - 1
YEARS = f"{MIN_YEAR}-{MAX_YEAR}"
# Unknown feature keys tracked by a mask each; past this, the most frequent ones.
MASKED_KEYS = 64
YEAR = re.compile(r"\s*([+-]?\d{4,})-")
ID_MAX = {"request_id": 200, "entity_id": 200, "item_id": 200, "segment": 100, "slate_id": 200}


@dataclass(frozen=True)
class Limits:
    """Caps on what one row's features may carry (settings VIGIL_MAX_CATEGORY_CHARS,
    VIGIL_MAX_UNKNOWN_KEYS, VIGIL_MAX_FEATURE_KEY_CHARS)."""

    category_chars: int
    unknown_keys: int
    feature_key_chars: int


class InvalidInput(ValueError):
    """Input that cannot be accepted at all: ``detail`` sentence plus field -> messages."""

    def __init__(self, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


def type_name(value: object) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


class RowErrors:
    """Reasons per row index, filled only for the rows a check flags."""

    def __init__(self, n: int):
        self.n = n
        self.by_row: dict[int, list[str]] = {}

    def flag(self, mask: np.ndarray, message) -> None:
        """Add ``message`` (a str, or a callable index -> str) to every row where mask is True."""
        for i in np.flatnonzero(mask).tolist():
            self.by_row.setdefault(i, []).append(message(i) if callable(message) else message)

    def add(self, i: int, message: str) -> None:
        self.by_row.setdefault(i, []).append(message)

    def ok_mask(self) -> np.ndarray:
        ok = np.ones(self.n, dtype=bool)
        if self.by_row:
            ok[list(self.by_row)] = False
        return ok


def bad_type_mask(col: list, allowed: frozenset) -> np.ndarray | None:
    """None when every value's exact type is allowed (the fast path), else a bool mask."""
    if set(map(type, col)) <= allowed:
        return None
    return np.fromiter((type(v) not in allowed for v in col), dtype=bool, count=len(col))


def to_float(col: list) -> np.ndarray:
    """Numbers (and None -> NaN) to float64; ints beyond float range become inf."""
    try:
        return np.array(col, dtype=np.float64)
    except (OverflowError, TypeError, ValueError):
        return np.array([_one_float(v) for v in col], dtype=np.float64)


def _one_float(v) -> float:
    if v is None or type(v) not in NUMBER:
        return np.nan
    try:
        return float(v)
    except OverflowError:
        return np.inf


def null_mask(col: list) -> np.ndarray:
    if None not in col:  # a C-level scan: the common case of a column without nulls
        return np.zeros(len(col), dtype=bool)
    return np.fromiter((v is None for v in col), dtype=bool, count=len(col))


def check_number(col: list, name: str, errors: RowErrors, *, required: bool) -> np.ndarray:
    """Validate a JSON number column; returns float64 (NaN where null or invalid)."""
    allowed = NUMBER | {NoneType}
    bad = bad_type_mask(col, allowed)
    if bad is not None:
        errors.flag(bad, lambda i: f"{name}: expected a number, got {type_name(col[i])}")
        col = [None if b else v for v, b in zip(col, bad, strict=True)]
    values = to_float(col)
    nulls = null_mask(col)
    if bad is not None:
        nulls &= ~bad
    if required and nulls.any():
        errors.flag(nulls, f"{name}: required")
    nonfinite = ~np.isfinite(values) & ~nulls
    if bad is not None:
        nonfinite &= ~bad
    if nonfinite.any():
        errors.flag(nonfinite, f"{name}: must be a finite number (no NaN or infinity)")
    return values


def check_id(col: list, name: str, errors: RowErrors, *, required: bool) -> list:
    """Strings (ints are converted to str); returns the column as str/None."""
    bad = bad_type_mask(col, frozenset({str, NoneType}))
    if bad is not None:
        convertible = np.fromiter((type(v) is int for v in col), dtype=bool, count=len(col))
        col = [str(v) if c else v for v, c in zip(col, convertible, strict=True)]
        bad &= ~convertible
        errors.flag(bad, lambda i: f"{name}: expected a string, got {type_name(col[i])}")
        col = [None if b else v for v, b in zip(col, bad, strict=True)]
    limit = ID_MAX[name]
    present = [v for v in col if v is not None]
    problems = []
    # Whole-column checks first; rows are visited only when one of them finds something.
    if present and ("" in present or max(map(len, present)) > limit or "\x00" in "".join(present)):
        problems = [i for i, v in enumerate(col) if v is not None and (v == "" or len(v) > limit or "\x00" in v)]
    for i in problems:
        v = col[i]
        if v == "":
            errors.add(i, f"{name}: must not be empty")
        elif len(v) > limit:
            errors.add(i, f"{name}: longer than {limit} characters")
        else:
            errors.add(i, f"{name}: contains a NUL character")
        col[i] = None
    if required:
        missing = null_mask(col)
        if bad is not None:
            missing &= ~bad
        if problems:
            missing[problems] = False
        errors.flag(missing, f"{name}: required")
    return col


def check_timestamps(col: list, errors: RowErrors, *, now_ns: int, max_future_s: int,
                     required: bool = True) -> np.ndarray:
    """ISO 8601 strings (naive means UTC) -> int64 ns UTC, truncated to microseconds.

    Invalid or missing entries get ``now_ns`` when not required, else an error.
    """
    bad = bad_type_mask(col, frozenset({str, NoneType}))
    if bad is not None:
        errors.flag(bad, lambda i: f"timestamp: expected an ISO 8601 string, got {type_name(col[i])}")
        col = [None if b else v for v, b in zip(col, bad, strict=True)]
    nulls = null_mask(col)
    parsed = pd.to_datetime(pd.Series(col, dtype=object), utc=True, format="ISO8601", errors="coerce")
    nat_value = np.iinfo(np.int64).min
    if parsed.dt.unit == "ns":
        ns = parsed.to_numpy(dtype="datetime64[ns]").view(np.int64)
    else:
        # pandas keeps dates outside the nanosecond span (years before 1677 or after 2262)
        # at a coarser unit; such rows are rejected one by one, the others go on.
        us = parsed.dt.as_unit("us").to_numpy(dtype="datetime64[us]").view(np.int64)
        outside = (us != nat_value) & ((us < MIN_NS // 1000) | (us > MAX_NS // 1000))
        errors.flag(outside, lambda i: f"timestamp: {col[i][:40]!r} is outside the supported years {YEARS}")
        ns = np.where(outside | (us == nat_value), nat_value, us * 1000)
        nulls = nulls | outside  # reported above; not reported again as unparseable
    nat = ns == nat_value
    unparseable = nat & ~nulls
    errors.flag(unparseable, lambda i: _unparseable(col[i]))
    if required:
        missing = nulls if bad is None else nulls & ~bad
        errors.flag(missing, "timestamp: required")
    ns = np.where(nat, now_ns, ns)
    future = ns > now_ns + max_future_s * 1_000_000_000
    errors.flag(future, "timestamp: more than 1 day in the future")
    # PostgreSQL keeps microseconds: truncate now so sketches and rows agree.
    return ns - ns % 1000


def _unparseable(text: str) -> str:
    # pandas gives up on a batch mixing out-of-span dates with nanosecond ones: name the cause.
    year = YEAR.match(text)
    if year and not MIN_YEAR <= int(year.group(1)) <= MAX_YEAR:
        return f"timestamp: {text[:40]!r} is outside the supported years {YEARS}"
    return f"timestamp: not an ISO 8601 date-time: {text[:100]!r}"


@dataclass
class FeatureColumns:
    """One version's features for a set of rows, in the formats of ``PredictionBatch``."""

    arrays: dict[str, np.ndarray]
    # Soft-problem masks per feature: "nulls" (non-nullable only), "out_of_range", and
    # "unseen" as an object array of the unseen value or None.
    soft: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # Per feature key not in the schema, the rows that have it; None when no row has any.
    unknown_keys: dict[str, np.ndarray] | None = None


def check_features(schema: list[dict], feats: list[dict], errors: RowErrors, rows: np.ndarray, *,
                   limits: Limits) -> FeatureColumns:
    """Validate the ``features`` dicts of the rows at positions ``rows`` (into ``errors``)."""
    arrays: dict[str, np.ndarray] = {}
    soft: dict[str, dict[str, np.ndarray]] = {}
    sub = RowErrors(len(feats))
    for spec, col in zip(schema, _feature_columns([spec["name"] for spec in schema], feats), strict=True):
        name, kind = spec["name"], spec["type"]
        label = f"features.{name}"
        problems: dict[str, np.ndarray] = {}
        if kind == "categorical":
            bad = bad_type_mask(col, frozenset({str, NoneType}))
            if bad is not None:
                sub.flag(bad, lambda i, c=col, lb=label: f"{lb}: expected a string, got {type_name(c[i])}")
                col = [None if b else v for v, b in zip(col, bad, strict=True)]
            col = _check_category_length(col, label, sub, limits.category_chars)
            values = np.array(col, dtype=object)
            nulls = null_mask(col)
            known = set(spec.get("categories") or ())
            if known and not set(col) <= known | {None}:
                problems["unseen"] = np.array([v if v is not None and v not in known else None for v in col],
                                              dtype=object)
        elif kind == "boolean":
            bad = bad_type_mask(col, frozenset({bool, NoneType}))
            if bad is not None:
                sub.flag(bad, lambda i, c=col, lb=label: f"{lb}: expected true or false, got {type_name(c[i])}")
                col = [None if b else v for v, b in zip(col, bad, strict=True)]
            values = to_float(col)
            nulls = null_mask(col)
        else:
            values = check_number(col, label, sub, required=False)
            nulls = np.isnan(values)
            in_range = np.ones(len(col), dtype=bool)
            with np.errstate(invalid="ignore"):
                if spec.get("min") is not None:
                    in_range &= ~(values < spec["min"])
                if spec.get("max") is not None:
                    in_range &= ~(values > spec["max"])
            if not in_range.all():
                problems["out_of_range"] = ~in_range
        if not spec.get("nullable", True) and nulls.any():
            problems["nulls"] = nulls
        arrays[name] = values
        if problems:
            soft[name] = problems
    unknown = _unknown_keys(schema, feats, sub, limits)
    for i, messages in sub.by_row.items():
        for message in messages:
            errors.add(int(rows[i]), message)
    return FeatureColumns(arrays=arrays, soft=soft, unknown_keys=unknown)


def _check_category_length(col: list, label: str, errors: RowErrors, limit: int) -> list:
    """Categorical values longer than ``limit`` reject their row (set to None here)."""
    # filter(None) drops None (and ""), map(len) runs in C: one pass over the column.
    if max(map(len, filter(None, col)), default=0) <= limit:
        return col
    col = list(col)
    for i, v in enumerate(col):
        if v is not None and len(v) > limit:
            errors.add(i, f"{label}: longer than {limit} characters")
            col[i] = None
    return col


def _feature_columns(names: list[str], feats: list[dict]) -> list[Sequence]:
    """Per feature name, its value in every row (None where a row lacks it).

    When every row has every feature, one C-level pass (itemgetter + zip) transposes the
    rows: several times faster than a list comprehension per feature over a 10k-row batch.
    """
    if not names:
        return []
    try:
        values = list(map(itemgetter(*names), feats))
    except KeyError:
        return [[f.get(name) for f in feats] for name in names]
    if len(names) == 1:
        return [values]
    return list(zip(*values, strict=True)) if values else [() for _ in names]


def _unknown_keys(schema: list[dict], feats: list[dict], errors: RowErrors,
                  limits: Limits) -> dict[str, np.ndarray] | None:
    """Per key not in the schema, the mask of rows that have it (None when no row has any).

    A row with more than ``limits.unknown_keys`` such keys, or one longer than
    ``limits.feature_key_chars``, is rejected: it could only be a client bug or an attack.
    When the batch holds more distinct unknown keys than the answer lists, only the most
    frequent are kept (a mask per key for thousands of keys would be the attack's payload).
    """
    known = {spec["name"] for spec in schema}
    extra = set().union(*map(dict.keys, feats)) - known if feats else set()
    if not extra:
        return None
    n = len(feats)
    most, longest = limits.unknown_keys, limits.feature_key_chars
    if len(extra) <= MASKED_KEYS:
        masks = {key: np.fromiter((key in f for f in feats), dtype=bool, count=n) for key in sorted(extra)}
        counts = np.sum(list(masks.values()), axis=0)
    else:
        per_row = [f.keys() - known for f in feats]
        counts = np.fromiter(map(len, per_row), dtype=np.int64, count=n)
        tally = Counter(k for keys in per_row for k in keys)
        kept = dict(tally.most_common(MASKED_KEYS))
        masks = {key: np.fromiter((key in keys for keys in per_row), dtype=bool, count=n) for key in sorted(kept)}
    errors.flag(counts > most, lambda i: f"features: {counts[i]} keys not in the schema, at most {most}")
    too_long = [k for k in extra if len(k) > longest]
    if too_long:
        bad = np.zeros(n, dtype=bool)
        for i, f in enumerate(feats):
            bad[i] = any(k in f for k in too_long)
        errors.flag(bad, f"features: a key longer than {longest} characters")
        for key in too_long:
            masks.pop(key, None)
    return masks


def _keep_top(counts: dict, limit: int) -> tuple[dict, int]:
    """The ``limit`` largest counts, and the sum of the others."""
    if len(counts) <= limit:
        return counts, 0
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return dict(top), sum(counts.values()) - sum(n for _, n in top)


def quality_add(quality: dict, columns: FeatureColumns, stored: np.ndarray) -> None:
    """Count the soft problems of the stored rows (``stored`` mask) into ``quality``."""
    for name, problems in columns.soft.items():
        entry = quality.setdefault(name, {})
        for kind, mask in problems.items():
            if kind == "unseen":
                counts = Counter(v for v in mask[stored] if v is not None)
                if counts:
                    merged = entry.setdefault("unseen", {})
                    for value, count in counts.items():
                        merged[value] = merged.get(value, 0) + count
            else:
                count = int(mask[stored].sum())
                if count:
                    entry[kind] = entry.get(kind, 0) + count
        if not entry:
            quality.pop(name)
    for key, mask in (columns.unknown_keys or {}).items():
        count = int(mask[stored].sum())
        if count:
            entry = quality.setdefault(key, {})
            entry["unknown"] = entry.get("unknown", 0) + count


def quality_bound(quality: dict, *, limit: int) -> dict:
    """At most ``limit`` unseen values per feature and as many unknown keys, the most frequent;
    the rest are counted in ``unseen_other`` and ``unknown_other``."""
    for entry in quality.values():
        if "unseen" in entry:
            entry["unseen"], other = _keep_top(entry["unseen"], limit)
            if other:
                entry["unseen_other"] = other
    unknown = {k: e["unknown"] for k, e in quality.items() if "unknown" in e}
    kept, other = _keep_top(unknown, limit)
    out = {k: e for k, e in quality.items() if "unknown" not in e or k in kept}
    if other:
        out["unknown_other"] = {"unknown": other}
    return out


def check_rows_are_objects(rows: list, errors: RowErrors) -> list[dict]:
    """Every row must be a JSON object; others are flagged and replaced by {}."""
    if set(map(type, rows)) <= {dict}:
        return rows
    out = []
    for i, row in enumerate(rows):
        if type(row) is dict:
            out.append(row)
        else:
            errors.add(i, f"row: expected a JSON object, got {type_name(row)}")
            out.append({})
    return out


def check_feature_dicts(col: list, errors: RowErrors) -> list[dict]:
    if set(map(type, col)) <= {dict}:
        return col
    out = []
    for i, value in enumerate(col):
        if type(value) is dict:
            out.append(value)
        else:
            errors.add(i, "features: required object" if value is None
                       else f"features: expected an object, got {type_name(value)}")
            out.append({})
    return out


def check_labels(col: list, errors: RowErrors, *, task: str, classes: list | None,
                 name: str = "label", required: bool = True) -> list:
    """Label values per task, returned in their stored form.

    binary: 0/1 or true/false (stored as 0/1); multiclass: one of ``classes``, matched
    by its text so 2 and "2" are the same class (stored as declared); regression and
    ranking: a finite number. Strings such as "1" are not accepted for binary labels.
    """
    out: list = [None] * len(col)
    by_text = {str(c): c for c in classes or []}
    for i, value in enumerate(col):
        if value is None:
            if required:
                errors.add(i, f"{name}: required")
            continue
        kind = type(value)
        if task == "binary_classification":
            if kind is bool or (kind in NUMBER and value in (0, 1)):
                out[i] = int(value)
            else:
                errors.add(i, f"{name}: expected 0, 1, true or false, got {value!r}")
        elif task == "multiclass_classification":
            if kind in (str, int) and str(value) in by_text:
                out[i] = by_text[str(value)]
            else:
                errors.add(i, f"{name}: {value!r} is not one of the classes {list(by_text.values())}")
        elif kind in NUMBER and np.isfinite(_one_float(value)):
            out[i] = value
        else:
            errors.add(i, f"{name}: expected a finite number, got {type_name(value)}")
    return out
