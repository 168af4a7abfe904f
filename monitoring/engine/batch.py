"""Column-oriented views of an ingested batch, handed from ingestion to the sketches.

No Django import: these are plain numpy containers so the statistics code can use them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

HOUR_NS = 3_600_000_000_000  # timestamps are int64 ns; hour index = ns // HOUR_NS


@dataclass
class PredictionBatch:
    """Rows of ONE model version that were actually stored (duplicates already removed).

    - ``timestamps``: int64 nanoseconds since the epoch, UTC.
    - ``features[name]``: float64 with NaN for null (numeric; boolean as 0.0/1.0), or an
      object array of str/None (categorical).
    - ``segments``/``entity_ids``/``item_ids``: object arrays of str/None.
    """

    request_ids: np.ndarray
    timestamps: np.ndarray
    scores: np.ndarray
    features: dict[str, np.ndarray]
    segments: np.ndarray
    predictions: list = field(default_factory=list)
    entity_ids: np.ndarray | None = None
    item_ids: np.ndarray | None = None
    slate_ids: np.ndarray | None = None
    received_at_ns: int = 0

    def __len__(self) -> int:
        return len(self.request_ids)


def _objects(values: Sequence, index: np.ndarray) -> np.ndarray:
    return np.array([values[i] for i in index.tolist()], dtype=object)


def prediction_batch(
    index: np.ndarray,
    *,
    request_ids: Sequence,
    timestamps: np.ndarray,
    scores: np.ndarray,
    segments: Sequence,
    predictions: Sequence,
    features: dict[str, np.ndarray],
    received_at_ns: int,
    entity_ids: Sequence | None = None,
    item_ids: Sequence | None = None,
    slate_ids: Sequence | None = None,
) -> PredictionBatch:
    """The rows at positions ``index`` of whole columns as a batch (ingestion from a request,
    the rebuild from stored rows). ``features`` holds the typed feature columns of those rows
    only (already converted and selected by the caller)."""
    return PredictionBatch(
        request_ids=_objects(request_ids, index),
        timestamps=np.asarray(timestamps, dtype=np.int64)[index],
        scores=np.asarray(scores, dtype=np.float64)[index],
        features=features,
        segments=_objects(segments, index),
        predictions=[predictions[i] for i in index.tolist()],
        entity_ids=_objects(entity_ids, index) if entity_ids is not None else None,
        item_ids=_objects(item_ids, index) if item_ids is not None else None,
        slate_ids=_objects(slate_ids, index) if slate_ids is not None else None,
        received_at_ns=received_at_ns,
    )


@dataclass
class LabelChange:
    """A label that was stored: ``old_value`` is the label it replaced (None if first)."""

    request_id: str
    new_value: object
    old_value: object | None
    human_corrected: bool = False
