"""Raw labelled rows of one version (the threshold search and canary arms need rows, not sketches)."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import connection

from monitoring.models import ModelVersion

# decision_code / value_code: the JSON decision and label as numbers, written at ingest
# (monitoring.engine.coding.numeric_codes: numbers, booleans 0/1, multiclass positions).
LABELLED_SQL = """
SELECT p.score, p.decision_code, l.value_code
  FROM monitoring_prediction p
  JOIN monitoring_label l ON l.model_id = p.model_id AND l.request_id = p.request_id
 WHERE p.version_id = %(v)s AND p."timestamp" >= %(start)s AND p."timestamp" < %(end)s
   {only_unpaired}
"""
UNPAIRED = """AND NOT EXISTS (SELECT 1 FROM monitoring_prediction o
                   WHERE o.model_id = p.model_id AND o.request_id = p.request_id AND o.version_id = %(other)s)"""
EARLIEST, LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)


def labelled_rows(
    *, version: ModelVersion, start: datetime | None = None, end: datetime | None = None,
    unpaired_with: ModelVersion | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, logged decision or NaN, label) of the version's labelled predictions in [start, end),
    optionally only the requests ``unpaired_with`` did not predict (its canary / A-B arm)."""
    sql = LABELLED_SQL.replace("{only_unpaired}", UNPAIRED if unpaired_with is not None else "")
    params = {"v": version.pk, "start": start or EARLIEST, "end": end or LATEST,
              "other": unpaired_with.pk if unpaired_with is not None else None}
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        empty = np.empty(0)
        return empty, empty, empty
    frame = pd.read_csv(buffer, header=None, names=["score", "prediction", "label"], dtype=np.float64,
                        keep_default_na=False, na_values=[""], engine="c")
    keep = ~np.isnan(frame["label"].to_numpy())
    return (frame["score"].to_numpy()[keep], frame["prediction"].to_numpy()[keep], frame["label"].to_numpy()[keep])
