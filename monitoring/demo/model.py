"""What one demo model consists of, and the LightGBM training shared by the demo models."""

from dataclasses import dataclass, field
from typing import Protocol

import lightgbm as lgb
import numpy as np
import pandas as pd


@dataclass
class Traffic:
    """The requests of one stretch of time, as the serving system logs them.

    ``labels`` holds every request's label with the time it comes back (``timestamp``), which
    may lie after now: the seed sends those already back, the live feed sends the others later.
    """

    predictions: pd.DataFrame
    labels: pd.DataFrame
    shadow: pd.DataFrame | None = None


class Stream(Protocol):
    """A demo model's traffic generator: the seed and the live feed both draw rows from it."""

    per_day: float  # requests a day, on average (slates, for a ranking model)
    label_delay: pd.Timedelta  # no label comes back later than this after its request

    def requests(self, rng: np.random.Generator, times: pd.Series, tag: str = "") -> Traffic:
        """Rows for requests arriving at ``times``; ``tag`` goes into the request ids after the prefix."""
        ...


@dataclass
class DemoShadow:
    """A second version logging the same requests as production without serving them."""

    version: str
    metadata: dict
    reference: pd.DataFrame
    predictions: pd.DataFrame
    artifact: bytes
    artifact_format: str


@dataclass
class DemoModel:
    """Everything the seed sends for one model. Frames use the client's column names."""

    slug: str
    name: str
    task: str
    description: str
    version: str
    features: list[dict]
    predictions: pd.DataFrame
    labels: pd.DataFrame
    reference: pd.DataFrame
    threshold: float | None = None
    classes: list | None = None
    metadata: dict = field(default_factory=dict)
    artifact: bytes | None = None
    artifact_format: str | None = None
    shadow: DemoShadow | None = None
    stream: Stream | None = None
    # Labels of the seeded requests that come back after the seed's end: the live feed sends them.
    later_labels: pd.DataFrame | None = None


def split_labels(labels: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labels back by ``now``, labels coming back later), each in arrival order."""
    ordered = labels.sort_values("timestamp", kind="stable")
    back = (ordered["timestamp"] <= now).to_numpy()
    return ordered[back].reset_index(drop=True), ordered[~back].reset_index(drop=True)


def model_inputs(frame: pd.DataFrame, schema: list[dict]) -> pd.DataFrame:
    """The model's input matrix: categoricals as pandas categories (their order is saved in the
    LightGBM model file), booleans as 0/1, numbers as float with NaN for null."""
    columns = {}
    for spec in schema:
        values = frame[spec["name"]]
        if spec["type"] == "categorical":
            columns[spec["name"]] = pd.Categorical(values, categories=spec["categories"])
        else:
            columns[spec["name"]] = pd.to_numeric(values.astype(object), errors="coerce").astype(float)
    return pd.DataFrame(columns, index=frame.index)


LGB_PARAMS = {"n_estimators": 120, "num_leaves": 15, "learning_rate": 0.08, "min_child_samples": 30,
              "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.9, "n_jobs": 1, "verbose": -1}  # fmt: skip


def train(frame: pd.DataFrame, target: np.ndarray, schema: list[dict], *, task: str, seed: int):
    """A small LightGBM model on the schema's features (classifier or regressor)."""
    estimator = lgb.LGBMClassifier if task == "classifier" else lgb.LGBMRegressor
    model = estimator(random_state=seed, **LGB_PARAMS)
    model.fit(model_inputs(frame, schema), target)
    return model


def model_text(model) -> bytes:
    """The booster in LightGBM's text format: what ``upload_artifact(format="lightgbm")`` sends."""
    return model.booster_.model_to_string().encode()


def prediction_frame(prefix: str, times: pd.Series, version: str, inputs: pd.DataFrame, **columns) -> pd.DataFrame:
    """Client-shaped predictions: request_id, version, timestamp, the given columns, then features."""
    n = len(times)
    ids = np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), 7)).astype(object)
    head = pd.DataFrame({"request_id": ids, "version": version, "timestamp": times.to_numpy(), **columns})
    return pd.concat([head, inputs.reset_index(drop=True)], axis=1)
