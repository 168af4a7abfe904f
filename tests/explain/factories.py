"""Small models and data for the explanation tests (kept tiny so the suite stays fast)."""

import datetime as dt

import numpy as np
import pandas as pd

from explain.frames import features_frame

SCHEMA = [
    {"name": "income", "type": "numeric", "min": 0, "max": 200000, "display_name": "Income", "unit": "EUR"},
    {"name": "debt_to_income", "type": "numeric", "min": 0, "max": 2},
    {"name": "age", "type": "numeric", "min": 18, "max": 90, "unit": "years"},
    {"name": "region", "type": "categorical", "categories": ["north", "south", "east"]},
    {"name": "has_car", "type": "boolean"},
]
NUMERIC_SCHEMA = SCHEMA[:3]


def rows(n: int, seed: int = 0, schema: list[dict] = SCHEMA) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        row = {"income": float(rng.normal(50000, 15000)), "debt_to_income": float(rng.uniform(0, 1.2)),
               "age": float(rng.integers(18, 80)), "region": str(rng.choice(["north", "south", "east"])),
               "has_car": bool(rng.random() < 0.5)}
        out.append({f["name"]: row[f["name"]] for f in schema})
    return out


def labels(data: list[dict], seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logit = (np.array([r["debt_to_income"] for r in data]) * 3 - 1.5
             - (np.array([r["income"] for r in data]) - 50000) / 20000
             + np.array([0.7 if r.get("region") == "south" else 0.0 for r in data])
             # Old applicants are rare but very risky: age matters little until the mix shifts.
             + np.array([3.0 if r["age"] > 72 else 0.0 for r in data]))
    return (rng.random(len(data)) < 1 / (1 + np.exp(-logit))).astype(int)


def lightgbm_text(data: list[dict], schema: list[dict] = SCHEMA, trees: int = 20) -> tuple[str, object]:
    import lightgbm as lgb

    X = features_frame(schema=schema, rows=data)
    booster = lgb.train({"objective": "binary", "num_leaves": 8, "verbose": -1, "min_data_in_leaf": 5},
                        lgb.Dataset(X, labels(data)), num_boost_round=trees)
    return booster.model_to_string(), booster


def xgboost_model(data: list[dict], schema: list[dict] = NUMERIC_SCHEMA, trees: int = 20):
    import xgboost as xgb

    X = features_frame(schema=schema, rows=data)
    return xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, labels(data)),
                     num_boost_round=trees)


def sklearn_pipeline(data: list[dict]):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = features_frame(schema=SCHEMA, rows=data, raw=True)
    pre = ColumnTransformer([
        ("num", StandardScaler(), ["income", "debt_to_income", "age", "has_car"]),
        ("cat", OneHotEncoder(categories=[["north", "south", "east"]], handle_unknown="ignore",
                              sparse_output=False), ["region"]),
    ])
    return Pipeline([("pre", pre), ("rf", RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0))]
                    ).fit(X, labels(data))


def linear_model(data: list[dict]):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X = features_frame(schema=NUMERIC_SCHEMA, rows=data, raw=True)
    return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())]).fit(X, labels(data))


def make_version(schema: list[dict] = SCHEMA, slug: str = "loan", version: str = "v1", **extra):
    from monitoring.models import MLModel, ModelVersion

    model, _ = MLModel.objects.get_or_create(slug=slug, defaults={"name": "Loan default",
                                                                  "task": "binary_classification"})
    return ModelVersion.objects.create(model=model, version=version, features=schema, **extra)


def add_reference(version, data: list[dict], scores=None) -> None:
    from monitoring.models import ReferenceRow

    ReferenceRow.objects.bulk_create([
        ReferenceRow(version=version, features=r, score=None if scores is None else float(scores[i]))
        for i, r in enumerate(data)
    ])


def add_predictions(version, data: list[dict], scores, start: dt.datetime, prefix: str = "r",
                    spacing: dt.timedelta = dt.timedelta(minutes=1)) -> list:
    from monitoring.models import Prediction

    now = dt.datetime.now(dt.UTC)
    return Prediction.objects.bulk_create([
        Prediction(model=version.model, version=version, request_id=f"{prefix}-{i}", timestamp=start + i * spacing,
                   features=r, score=float(scores[i]), received_at=now)
        for i, r in enumerate(data)
    ])


def frame(data: list[dict], schema: list[dict] = SCHEMA, raw: bool = False) -> pd.DataFrame:
    return features_frame(schema=schema, rows=data, raw=raw)
