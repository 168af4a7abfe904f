"""Paired predictions: the requests two versions of a model both predicted, read for comparison.

The one read of raw prediction rows meant for large ranges: a shadow comparison needs both
versions' score and decision per request, which sketches cannot pair. One SQL statement joins
the two versions' rows: the unique key (model, version, request_id) covers time, score and
the numeric decision, so the pairing is a merge join of two index-only scans in request_id
order (no sort, no heap reads); the label joins by hash on its numeric code. Each column is
aggregated server-side into one binary string (``float8send``/``timestamptz_send``, request ids
NUL-separated) and the single row travels by binary COPY: numpy reads the columns without a
Python object per row except the request ids (measured: printing and parsing a million rows
as text cost more than the join itself).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.registry import model_classes


def _floats(column: str) -> str:
    # 'NaN' for null: string_agg skips nulls, which would shift the rows of that column.
    return f"string_agg(float8send(COALESCE({column}, 'NaN')), '')"


def pairs_sql(*, with_request_ids: bool) -> str:
    ids = "string_agg(convert_to(a.request_id, 'UTF8'), '\\x00'::bytea)" if with_request_ids else "NULL::bytea"
    return f"""
SELECT count(*), {ids},
       string_agg(timestamptz_send(a."timestamp"), ''), {_floats("a.score")}, {_floats("b.score")},
       {_floats("a.decision_code")}, {_floats("b.decision_code")}, {_floats("l.value_code")}
  FROM monitoring_prediction a
  JOIN monitoring_prediction b
    ON b.model_id = a.model_id AND b.version_id = %(b)s AND b.request_id = a.request_id
  LEFT JOIN monitoring_label l ON l.model_id = a.model_id AND l.request_id = a.request_id
 WHERE a.model_id = %(model)s AND a.version_id = %(a)s
   AND a."timestamp" >= %(start)s AND a."timestamp" < %(end)s
"""


EARLIEST = "0001-01-02T00:00:00Z"
LATEST = "9999-12-30T00:00:00Z"
# timestamptz_send: microseconds since 2000-01-01 UTC.
PG_EPOCH_US = 946_684_800_000_000


@dataclass
class PairedPredictions:
    """Requests predicted by both versions, in time order (version a's timestamp).

    - ``request_ids``: object array of str; None when not asked for (``with_request_ids``).
    - ``timestamps``: datetime64[us] (UTC) of version a's prediction.
    - ``score_a``/``score_b``: float64 scores.
    - ``prediction_a``/``prediction_b``: float64 decisions as logged (``prediction``): numbers
      as sent, booleans 0/1, multiclass class labels as their 0-based position in
      ``classes``; NaN where the row logged no (numeric) decision.
    - ``label``: float64 in the same coding, NaN where the request has no label yet.
    - ``classes``: the model's classes (multiclass), else None.
    """

    request_ids: np.ndarray | None
    timestamps: np.ndarray
    score_a: np.ndarray
    score_b: np.ndarray
    prediction_a: np.ndarray
    prediction_b: np.ndarray
    label: np.ndarray
    classes: list | None = None

    def __len__(self) -> int:
        return len(self.score_a)

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
    with_request_ids: bool = True,
) -> PairedPredictions:
    """The requests both versions predicted with version a's timestamp in [start, end)
    (either bound optional), with both scores and decisions and the label (see
    PairedPredictions). One SQL join; ``version_a`` and ``version_b`` must belong to ``model``.
    Without ``with_request_ids`` the ids are neither aggregated nor decoded (a tenth of the
    time at a million pairs: the statistics do not need them).
    """
    if version_a.model_id != model.pk or version_b.model_id != model.pk:
        raise ValueError("both versions must belong to the model")
    params = {"model": model.pk, "a": version_a.pk, "b": version_b.pk,
              "start": start or EARLIEST, "end": end or LATEST}
    buffer = io.BytesIO()
    with transaction.atomic(), connection.cursor() as cursor:
        # Memory for the label hash in one batch (a million labels take about 55 MB); JIT
        # compilation costs more than it saves on these simple expressions.
        cursor.execute("SET LOCAL work_mem = '128MB'; SET LOCAL jit = off")
        query = cursor.mogrify(pairs_sql(with_request_ids=with_request_ids), params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", buffer)
    count, *fields = _binary_row(buffer.getbuffer())
    n = struct.unpack(">q", count)[0]
    if n == 0:
        return _empty(model_classes(model=model))
    ids, stamps, *floats = fields
    request_ids = None if ids is None else np.array(bytes(ids).decode().split("\x00"), dtype=object)
    micros = np.frombuffer(stamps, dtype=">i8").astype(np.int64) + PG_EPOCH_US
    score_a, score_b, prediction_a, prediction_b, label = (np.frombuffer(f, dtype=">f8").astype(np.float64)
                                                           for f in floats)
    order = np.argsort(micros, kind="stable")
    return PairedPredictions(
        request_ids=None if request_ids is None else request_ids[order], timestamps=micros[order].astype("datetime64[us]"),
        score_a=score_a[order], score_b=score_b[order], prediction_a=prediction_a[order],
        prediction_b=prediction_b[order], label=label[order], classes=model_classes(model=model),
    )


def _binary_row(data: memoryview) -> list[memoryview | None]:
    """The fields of the single row of a binary COPY (PostgreSQL's documented file format)."""
    extension = struct.unpack_from(">i", data, 15)[0]
    position = 19 + extension
    (fields,) = struct.unpack_from(">h", data, position)
    position += 2
    out: list[memoryview | None] = []
    for _ in range(fields):
        (length,) = struct.unpack_from(">i", data, position)
        position += 4
        if length < 0:
            out.append(None)
            continue
        out.append(data[position:position + length])
        position += length
    return out


def _empty(classes: list | None) -> PairedPredictions:
    none = np.empty(0, dtype=np.float64)
    return PairedPredictions(request_ids=np.empty(0, dtype=object), timestamps=np.empty(0, dtype="datetime64[us]"),
                             score_a=none, score_b=none.copy(), prediction_a=none.copy(), prediction_b=none.copy(),
                             label=none.copy(), classes=classes)
