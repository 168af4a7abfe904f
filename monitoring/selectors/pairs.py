"""Paired predictions: the requests two versions of a model both predicted, read for comparison.

The one read of raw prediction rows meant for large ranges: a shadow comparison needs both
versions' score and decision per request, which sketches cannot pair. One SQL statement joins
the two versions' rows: the unique key (model, version, request_id) covers time, score and
decision, so the pairing is a merge join of two index-only scans in request_id order (no
sort, no heap reads); the label joins by hash. The JSON decision and label become numbers
server-side, the time an integer (text timestamps cost more to print than all the rest),
and the result streams with COPY in CSV, which pandas' C parser turns into arrays (no
Python object per row except the request id).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import connection, transaction

from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Task
from monitoring.services.labels import model_classes


def _number(column: str) -> str:
    """A JSONB scalar as float8: numbers as they are, booleans 0/1, a string as the 0-based
    position in the model's classes (``%(classes)s``; NULL when not a class), else NULL."""
    return (
        f"CASE jsonb_typeof({column}) WHEN 'number' THEN ({column} #>> '{{}}')::float8"
        f" WHEN 'boolean' THEN ({column} = 'true'::jsonb)::int::float8"
        f" WHEN 'string' THEN array_position(%(classes)s::text[], {column} #>> '{{}}') - 1 END"
    )


PAIRS_SQL = f"""
SELECT a.request_id, (date_part('epoch', a."timestamp") * 1000000)::int8,
       a.score, b.score, {_number("a.prediction")}, {_number("b.prediction")}, {_number("l.value")}
  FROM monitoring_prediction a
  JOIN monitoring_prediction b
    ON b.model_id = a.model_id AND b.request_id = a.request_id AND b.version_id = %(b)s
  LEFT JOIN monitoring_label l ON l.model_id = a.model_id AND l.request_id = a.request_id
 WHERE a.model_id = %(model)s AND a.version_id = %(a)s
   AND a."timestamp" >= %(start)s AND a."timestamp" < %(end)s
"""
COLUMNS = ["request_id", "t_us", "score_a", "score_b", "prediction_a", "prediction_b", "label"]
FLOATS = {name: np.float64 for name in COLUMNS[2:]}
EARLIEST = datetime(1, 1, 2).isoformat() + "Z"
LATEST = datetime(9999, 12, 30).isoformat() + "Z"


@dataclass
class PairedPredictions:
    """Requests predicted by both versions, in time order (version a's timestamp).

    - ``request_ids``: object array of str.
    - ``timestamps``: datetime64[us] (UTC) of version a's prediction.
    - ``score_a``/``score_b``: float64 scores.
    - ``prediction_a``/``prediction_b``: float64 decisions as logged (``prediction``): numbers
      as sent, booleans 0/1, multiclass class labels as their 0-based position in
      ``classes``; NaN where the row logged no (numeric) decision.
    - ``label``: float64 in the same coding, NaN where the request has no label yet.
    - ``classes``: the model's classes (multiclass), else None.
    """

    request_ids: np.ndarray
    timestamps: np.ndarray
    score_a: np.ndarray
    score_b: np.ndarray
    prediction_a: np.ndarray
    prediction_b: np.ndarray
    label: np.ndarray
    classes: list | None = None

    def __len__(self) -> int:
        return len(self.request_ids)

    @property
    def labelled(self) -> np.ndarray:
        """Mask of the pairs whose request has a label."""
        return ~np.isnan(self.label)


def paired_predictions(
    *,
    model: MLModel,
    version_a: ModelVersion,
    version_b: ModelVersion,
    start: datetime | None = None,
    end: datetime | None = None,
) -> PairedPredictions:
    """The requests both versions predicted with version a's timestamp in [start, end)
    (either bound optional), with both scores and decisions and the label (see
    PairedPredictions). One SQL join; ``version_a`` and ``version_b`` must belong to ``model``.
    """
    if version_a.model_id != model.pk or version_b.model_id != model.pk:
        raise ValueError("both versions must belong to the model")
    classes = model_classes(model=model) if model.task == Task.MULTICLASS else None
    params = {
        "model": model.pk, "a": version_a.pk, "b": version_b.pk,
        "start": start or EARLIEST, "end": end or LATEST,
        "classes": [str(c) for c in classes or []],
    }
    buffer = io.BytesIO()
    with transaction.atomic(), connection.cursor() as cursor:
        # Memory for the label hash in one batch (a million labels take about 55 MB); JIT
        # compilation costs more than it saves on these simple expressions.
        cursor.execute("SET LOCAL work_mem = '128MB'; SET LOCAL jit = off")
        query = cursor.mogrify(PAIRS_SQL, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    if not buffer.getbuffer().nbytes:
        return _empty(classes)
    buffer.seek(0)
    frame = pd.read_csv(buffer, header=None, names=COLUMNS, dtype={"request_id": object, "t_us": np.int64, **FLOATS},
                        keep_default_na=False, na_values={name: [""] for name in FLOATS}, engine="c")
    order = np.argsort(frame["t_us"].to_numpy(), kind="stable")
    return PairedPredictions(
        request_ids=frame["request_id"].to_numpy(dtype=object)[order],
        timestamps=frame["t_us"].to_numpy()[order].astype("datetime64[us]"),
        score_a=frame["score_a"].to_numpy(dtype=np.float64)[order],
        score_b=frame["score_b"].to_numpy(dtype=np.float64)[order],
        prediction_a=frame["prediction_a"].to_numpy(dtype=np.float64)[order],
        prediction_b=frame["prediction_b"].to_numpy(dtype=np.float64)[order],
        label=frame["label"].to_numpy(dtype=np.float64)[order],
        classes=classes,
    )


def _empty(classes: list | None) -> PairedPredictions:
    none = np.empty(0, dtype=np.float64)
    return PairedPredictions(request_ids=np.empty(0, dtype=object), timestamps=np.empty(0, dtype="datetime64[us]"),
                             score_a=none, score_b=none.copy(), prediction_a=none.copy(), prediction_b=none.copy(),
                             label=none.copy(), classes=classes)
