"""Delivery time: a regression model (minutes from order to door); the true time is the label.

The label is known when the order is delivered, so it arrives ``actual minutes`` after
the prediction and only the last hour or so is still unlabelled.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import DemoModel, Traffic, model_inputs, model_text, prediction_frame, split_labels, train
from .traffic import DAY, arrival_times, categorical, customers

SLUG = "delivery-time"
VERSION = "2026.1"
WEATHER = ["clear", "rain", "snow"]

SCHEMA = [
    {"name": "distance_km", "type": "numeric", "display_name": "Distance", "unit": "km", "min": 0, "max": 30, "nullable": False},
    {"name": "items", "type": "numeric", "display_name": "Items in order", "unit": "count", "min": 1, "max": 40, "nullable": False},
    {"name": "prep_minutes", "type": "numeric", "display_name": "Kitchen preparation", "unit": "min", "min": 0, "max": 90, "nullable": False},
    {"name": "courier_load", "type": "numeric", "display_name": "Courier utilisation", "unit": "ratio", "min": 0, "max": 1, "nullable": False},
    {"name": "hour_of_day", "type": "numeric", "display_name": "Hour of day", "unit": "h", "min": 0, "max": 23, "nullable": False, "time_derived": True},
    {"name": "weather", "type": "categorical", "display_name": "Weather", "unit": "", "categories": WEATHER, "nullable": False},
    {"name": "is_weekend", "type": "boolean", "display_name": "Weekend", "unit": "", "nullable": False, "time_derived": True},
]  # fmt: skip


def orders(rng: np.random.Generator, n: int, hours: np.ndarray, weekend: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "distance_km": np.round(np.clip(rng.gamma(2.2, 1.6, n), 0.2, 30), 2),
            "items": (rng.poisson(2.5, n) + 1).astype(float),
            "prep_minutes": np.round(np.clip(rng.normal(14, 5, n), 2, 90), 1),
            "courier_load": np.round(rng.beta(3, 3, n), 3),
            "hour_of_day": hours.astype(float),
            "weather": categorical(rng, WEATHER, [0.7, 0.25, 0.05], n),
            "is_weekend": weekend,
        }
    )


def true_minutes(rng: np.random.Generator, x: pd.DataFrame) -> np.ndarray:
    weather = x["weather"].map({"clear": 0.0, "rain": 5.0, "snow": 14.0}).to_numpy(float)
    rush = np.isin(x["hour_of_day"].to_numpy(int), [12, 13, 18, 19, 20]) * 4.0
    minutes = (6 + 3.1 * x["distance_km"] + 0.7 * x["items"] + x["prep_minutes"] + 16 * x["courier_load"] ** 2
               + weather + rush + 2.0 * x["is_weekend"] + rng.normal(0, 3.5, len(x)))  # fmt: skip
    return np.round(np.clip(minutes.to_numpy(float), 5, None), 1)


@dataclass
class DeliveryStream:
    """Orders, their predicted and their actual delivery time (the label, back on delivery)."""

    model: object
    scale: float
    # Delivery takes minutes to a few hours (the actual time, clipped at 5 minutes, rarely passes 3 hours).
    label_delay: pd.Timedelta = pd.Timedelta(hours=6)

    @property
    def per_day(self) -> float:
        return 800 * self.scale

    def requests(self, rng: np.random.Generator, times: pd.Series, tag: str = "") -> Traffic:
        n = len(times)
        served = orders(rng, n, times.dt.hour.to_numpy(), (times.dt.dayofweek >= 5).to_numpy())
        minutes = true_minutes(rng, served)
        score = np.round(self.model.predict(model_inputs(served, SCHEMA)), 5)
        predictions = prediction_frame(
            f"dlv-{tag}",
            times,
            VERSION,
            served,
            score=score,
            entity_id=customers(rng, n, pool=max(300, int(12000 * self.scale)), prefix="cust-"),
            segment=categorical(rng, ["city", "suburb"], [0.7, 0.3], n),
        )
        delivered = times + pd.to_timedelta(minutes, unit="min")
        labels = pd.DataFrame({"request_id": predictions["request_id"], "label": minutes, "timestamp": delivered})
        return Traffic(predictions=predictions, labels=labels)


def build(*, now: pd.Timestamp, days: int, scale: float, seed: int = 7) -> DemoModel:
    rng = np.random.default_rng(seed)
    start = now - days * DAY

    n_train = int(max(2000, 10000 * min(scale, 1.0)))
    hours = rng.integers(0, 24, n_train)
    history = orders(rng, n_train, hours, rng.uniform(size=n_train) < 2 / 7)
    actual = true_minutes(rng, history)
    holdout = n_train // 4
    model = train(history.iloc[holdout:], actual[holdout:], SCHEMA, task="regressor", seed=seed)
    reference = history.iloc[:holdout].reset_index(drop=True)
    reference["score"] = np.round(model.predict(model_inputs(reference, SCHEMA)), 5)
    reference["label"] = actual[:holdout]

    stream = DeliveryStream(model=model, scale=scale)
    traffic = stream.requests(rng, arrival_times(rng, start=start, days=days, per_day=stream.per_day))
    labels, later_labels = split_labels(traffic.labels, now)

    return DemoModel(
        slug=SLUG,
        name="Delivery time",
        task="regression",
        description="Minutes from order to delivery, shown to customers at checkout (simulated).",
        version=VERSION,
        features=SCHEMA,
        predictions=traffic.predictions,
        labels=labels,
        later_labels=later_labels,
        reference=reference,
        metadata={
            "score_label": "the predicted delivery time",
            "algorithm": "LightGBM LGBMRegressor",
            "hyperparameters": model.get_params(),
            "training_rows": n_train - holdout,
            "unit": "minutes",
            "code": "monitoring/demo/delivery.py",
        },
        artifact=model_text(model),
        artifact_format="lightgbm",
        stream=stream,
    )
