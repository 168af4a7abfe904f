"""Product recommendations: a ranking model scoring candidate items (sku-...) for a customer.

Each recommendation request shows ``SLATE`` items; every shown item is one prediction row
with the customer as entity_id, the item as item_id, the click probability as score and the
item's position in the slate as prediction. Whether it was clicked is the label, known
within a few hours.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import DemoModel, Traffic, model_inputs, model_text, prediction_frame, split_labels, train
from .traffic import DAY, arrival_times, categorical, customers

SLUG = "product-recs"
VERSION = "2026.1"
SLATE = 5
CATEGORIES = ["electronics", "home", "fashion", "books", "toys"]

SCHEMA = [
    {"name": "affinity", "type": "numeric", "display_name": "Customer-item affinity", "unit": "score", "min": 0, "max": 1, "nullable": False},
    {"name": "item_popularity", "type": "numeric", "display_name": "Item popularity", "unit": "percentile", "min": 0, "max": 1, "nullable": False},
    {"name": "item_price", "type": "numeric", "display_name": "Price", "unit": "EUR", "min": 0, "max": 5000, "nullable": False},
    {"name": "customer_tenure_days", "type": "numeric", "display_name": "Customer tenure", "unit": "days", "min": 0, "max": 5000, "nullable": False},
    {"name": "item_category", "type": "categorical", "display_name": "Category", "unit": "", "categories": CATEGORIES, "nullable": False},
]  # fmt: skip


class Catalogue:
    """A fixed catalogue: each sku has a category, a price and a popularity."""

    def __init__(self, rng: np.random.Generator, size: int = 400):
        self.ids = np.char.add("sku-", np.char.zfill(np.arange(size).astype(str), 4)).astype(object)
        self.category = categorical(rng, CATEGORIES, [0.25, 0.25, 0.2, 0.15, 0.15], size)
        self.price = np.round(np.clip(rng.lognormal(3.4, 0.9, size), 2, 5000), 2)
        self.weight = 1 / np.arange(1, size + 1) ** 0.9  # Zipf: a few items are shown most
        self.weight /= self.weight.sum()
        self.popularity = np.round(1 - np.arange(size) / size, 4)

    def rows(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, pd.DataFrame]:
        pick = rng.choice(len(self.ids), size=n, p=self.weight)
        features = pd.DataFrame(
            {
                "affinity": np.round(rng.beta(2, 4, n), 4),
                "item_popularity": self.popularity[pick],
                "item_price": self.price[pick],
                "customer_tenure_days": np.round(rng.exponential(400, n)),
                "item_category": self.category[pick],
            }
        )
        return self.ids[pick], features


def click_probability(x: pd.DataFrame) -> np.ndarray:
    logit = (-3.0 + 3.2 * x["affinity"] + 1.2 * x["item_popularity"] - 0.25 * np.log1p(x["item_price"])
             + 0.0004 * np.minimum(x["customer_tenure_days"], 1500)
             + x["item_category"].map({"electronics": 0.2, "home": 0.0, "fashion": 0.1, "books": -0.2, "toys": 0.0}))  # fmt: skip
    return 1 / (1 + np.exp(-logit.to_numpy(float)))


@dataclass
class RecsStream:
    """Recommendation requests (``times``: one per slate), SLATE rows each, and the clicks."""

    model: object
    catalogue: Catalogue
    scale: float
    label_delay: pd.Timedelta = pd.Timedelta(hours=6)  # a click is seen within 6 hours or never

    @property
    def per_day(self) -> float:
        return 300 * self.scale

    def requests(self, rng: np.random.Generator, times: pd.Series, tag: str = "") -> Traffic:
        slates = len(times)
        times = times.repeat(SLATE).reset_index(drop=True)
        n = len(times)
        items, served = self.catalogue.rows(rng, n)
        score = np.round(self.model.predict_proba(model_inputs(served, SCHEMA))[:, 1], 6)
        # Rank within each slate of SLATE consecutive rows: 1 is shown first.
        order = np.argsort(-score.reshape(-1, SLATE), axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(1, SLATE + 1)[None, :], axis=1)
        viewers = customers(rng, slates, pool=max(300, int(20000 * self.scale)), prefix="user-")
        predictions = prediction_frame(
            f"rec-{tag}",
            times,
            VERSION,
            served,
            score=score,
            prediction=rank.reshape(-1),
            entity_id=viewers.repeat(SLATE),
            item_id=items,
            segment=categorical(rng, ["app", "web"], [0.65, 0.35], slates).repeat(SLATE),
            # The rows of one request form a slate: ranking metrics (NDCG, MRR, ...) are per slate.
            slate_id=np.char.add(f"slate-{tag}", np.char.zfill(np.arange(slates).astype(str), 7)).astype(object).repeat(SLATE),
        )
        position_bias = 1 / np.sqrt(rank.reshape(-1))
        outcome = (rng.uniform(size=n) < click_probability(served) * position_bias).astype(int)
        seen = times + pd.to_timedelta(rng.uniform(0.05, 6, n), unit="h")
        labels = pd.DataFrame({"request_id": predictions["request_id"], "label": outcome, "timestamp": seen})
        return Traffic(predictions=predictions, labels=labels)


def build(*, now: pd.Timestamp, days: int, scale: float, seed: int = 11) -> DemoModel:
    rng = np.random.default_rng(seed)
    start = now - days * DAY
    catalogue = Catalogue(rng)

    n_train = int(max(2000, 12000 * min(scale, 1.0)))
    _, history = catalogue.rows(rng, n_train)
    clicked = (rng.uniform(size=n_train) < click_probability(history)).astype(int)
    holdout = n_train // 4
    model = train(history.iloc[holdout:], clicked[holdout:], SCHEMA, task="classifier", seed=seed)
    reference = history.iloc[:holdout].reset_index(drop=True)
    reference["score"] = np.round(model.predict_proba(model_inputs(reference, SCHEMA))[:, 1], 6)
    reference["label"] = clicked[:holdout]

    stream = RecsStream(model=model, catalogue=catalogue, scale=scale)
    traffic = stream.requests(rng, arrival_times(rng, start=start, days=days, per_day=stream.per_day))
    labels, later_labels = split_labels(traffic.labels, now)

    return DemoModel(
        slug=SLUG,
        name="Product recommendations",
        task="ranking",
        description="Click probability of each recommended product; slates of five (simulated).",
        version=VERSION,
        features=SCHEMA,
        predictions=traffic.predictions,
        labels=labels,
        later_labels=later_labels,
        reference=reference,
        metadata={
            "score_label": "the click probability",
            "algorithm": "LightGBM LGBMClassifier (click model)",
            "hyperparameters": model.get_params(),
            "slate_size": SLATE,
            "catalogue_size": len(catalogue.ids),
            "code": "monitoring/demo/recs.py",
        },
        artifact=model_text(model),
        artifact_format="lightgbm",
        stream=stream,
    )
