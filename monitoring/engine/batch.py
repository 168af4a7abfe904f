"""Column-oriented views of an ingested batch, handed from ingestion to the sketches.

No Django import: these are plain numpy containers so the statistics code can use them.
"""

from dataclasses import dataclass, field

import numpy as np


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
    received_at_ns: int = 0

    def __len__(self) -> int:
        return len(self.request_ids)


@dataclass
class LabelChange:
    """A label that was stored: ``old_value`` is the label it replaced (None if first)."""

    request_id: str
    new_value: object
    old_value: object | None
    human_corrected: bool = False
