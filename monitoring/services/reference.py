"""A version's reference (training) sample: validated as a whole, stored with COPY."""

import io

import numpy as np
import orjson
import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from monitoring.engine.validation import (
    InvalidInput,
    RowErrors,
    check_feature_dicts,
    check_features,
    check_labels,
    check_number,
    check_rows_are_objects,
)
from monitoring.models import ModelVersion, ReferenceRow
from monitoring.models.registry import Task
from monitoring.selectors.registry import model_classes

from .ingest import NULL, input_limits
from .profile import profile_request_build

TRUE_TEXT = {"true", "1", "yes"}
FALSE_TEXT = {"false", "0", "no"}
MAX_REPORTED = 100


def reference_store(*, version: ModelVersion, rows: list, append: bool = False) -> dict:
    """Replace (or, with ``append``, extend) the reference sample of ``version``.

    Rows are ``{"features": {...}, "score": float|None, "label": ...|None}``. All or nothing:
    any hard error raises InvalidInput naming the row index and field, and nothing is stored.
    Returns ``{"stored": rows written, "total": rows now in the sample}``.
    """
    model = version.model
    errors = RowErrors(len(rows))
    rows = check_rows_are_objects(rows, errors)
    feats = check_feature_dicts([r.get("features") for r in rows], errors)
    check_features(version.features, feats, errors, np.arange(len(rows)), limits=input_limits())
    scores = check_number([r.get("score") for r in rows], "score", errors, required=False)
    if model.task == Task.BINARY:
        with np.errstate(invalid="ignore"):
            errors.flag((scores < 0) | (scores > 1), "score: must be between 0 and 1 for a binary model")
    labels = check_labels([r.get("label") for r in rows], errors, task=model.task,
                          classes=model_classes(model=model), required=False)
    encoded = [orjson.dumps(f).decode() for f in feats]
    limit = settings.VIGIL_MAX_FEATURES_BYTES
    sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    errors.flag(sizes > limit, f"features: larger than {limit} characters as JSON")
    for i, text in enumerate(encoded):
        if "\\u0000" in text:
            errors.add(i, "features: contains a NUL character (\\u0000), which cannot be stored")
    raise_row_errors(errors)

    lines = [
        "\t".join((str(version.pk), _escape(text), NULL if np.isnan(score) else repr(float(score)),
                   NULL if label is None else _escape(orjson.dumps(label).decode())))
        for text, score, label in zip(encoded, scores.tolist(), labels, strict=True)
    ]
    buffer = io.BytesIO(("\n".join(lines) + "\n").encode() if lines else b"")
    with transaction.atomic():
        # Locking the version serialises two uploads, so a replace never interleaves with another.
        ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
        if not append:
            ReferenceRow.objects.filter(version=version).delete()
        if lines:
            with connection.cursor() as cursor:
                cursor.copy_expert(
                    "COPY monitoring_reference_row (version_id, features, score, label) FROM STDIN", buffer
                )
        total = ReferenceRow.objects.filter(version=version).count()
        # The monitoring engine re-bins the version against its new reference after commit.
        profile_request_build(version_id=version.pk)
    return {"stored": len(lines), "total": total}


def reference_rows_from_csv(*, version: ModelVersion, frame: pd.DataFrame) -> list[dict]:
    """CSV columns (all text) -> reference rows typed by the feature schema.

    Empty cells are null. Numbers parse as floats, booleans from true/false/1/0/yes/no,
    labels per the model's task. Columns not in the schema are kept as text features.
    Row indexes in errors count data rows from 0 (the header is not a row).
    """
    errors = RowErrors(len(frame))
    kinds = {spec["name"]: spec["type"] for spec in version.features}
    columns: dict[str, list] = {}
    for name in frame.columns:
        text = frame[name].tolist()
        if name == "score":
            columns[name] = _numbers(text, "score", errors)
        elif name == "label":
            columns[name] = _label_cells(text, version.model.task)
        elif kinds.get(name) == "numeric":
            columns[name] = _numbers(text, f"features.{name}", errors)
        elif kinds.get(name) == "boolean":
            columns[name] = _booleans(text, f"features.{name}", errors)
        else:
            columns[name] = [v if v != "" else None for v in text]
        limit = settings.VIGIL_MAX_CATEGORY_CHARS
        if name != "label" and max(map(len, text), default=0) > limit:
            errors.flag(np.fromiter((len(v) > limit for v in text), dtype=bool, count=len(text)),
                        f"{name}: a cell longer than {limit} characters")
    raise_row_errors(errors)
    feature_names = [name for name in frame.columns if name not in ("score", "label")]
    if feature_names:
        feats = [dict(zip(feature_names, values, strict=True))
                 for values in zip(*(columns[name] for name in feature_names), strict=True)]
    else:
        feats = [{} for _ in range(len(frame))]
    empty = [None] * len(frame)
    return [
        {"features": f, "score": score, "label": label}
        for f, score, label in zip(feats, columns.get("score", empty), columns.get("label", empty), strict=True)
    ]


def raise_row_errors(errors: RowErrors) -> None:
    if not errors.by_row:
        return
    bad = sorted(errors.by_row.items())
    first_index, first_reasons = bad[0]
    raise InvalidInput(
        f"{len(bad)} row(s) invalid, nothing stored. Row {first_index}: {first_reasons[0]}",
        {"rows": [{"index": i, "errors": reasons} for i, reasons in bad[:MAX_REPORTED]]},
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\") if "\\" in text else text


def _numbers(text: list[str], name: str, errors: RowErrors) -> list:
    values = pd.to_numeric(pd.Series(text, dtype=object).replace("", None), errors="coerce").to_numpy(float)
    present = np.array([v != "" for v in text], dtype=bool)
    errors.flag(present & np.isnan(values), lambda i: f"{name}: not a number: {text[i]!r}")
    # Unparseable cells stay NaN: they are already reported above.
    return [float(v) if p else None for v, p in zip(values.tolist(), present.tolist(), strict=True)]


def _booleans(text: list[str], name: str, errors: RowErrors) -> list:
    out: list = []
    for i, v in enumerate(text):
        low = v.strip().lower()
        if low == "":
            out.append(None)
        elif low in TRUE_TEXT or low in FALSE_TEXT:
            out.append(low in TRUE_TEXT)
        else:
            errors.add(i, f"{name}: expected true or false, got {v!r}")
            out.append(None)
    return out


def _label_cells(text: list[str], task: str) -> list:
    """Label text -> the JSON value check_labels expects (it reports the bad ones)."""
    out: list = []
    for v in text:
        low = v.strip().lower()
        if low == "":
            out.append(None)
        elif task == Task.BINARY and (low in TRUE_TEXT or low in FALSE_TEXT):
            out.append(int(low in TRUE_TEXT))
        elif task in (Task.REGRESSION, Task.RANKING):
            try:
                out.append(float(v))
            except ValueError:
                out.append(v)
        else:
            out.append(v)
    return out
