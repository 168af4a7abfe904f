"""Small builders shared by the ingestion tests (models, versions, prediction rows)."""

import gzip

import orjson

from monitoring.services.registry import model_create, version_create

SCHEMA = [
    {"name": "income", "type": "numeric", "nullable": False, "min": 0, "max": 1_000_000},
    {"name": "region", "type": "categorical", "categories": ["north", "south"]},
    {"name": "has_car", "type": "boolean"},
]


def binary_model(slug: str = "loan-default", version: str = "2024-06-01", stage: str = "production"):
    model = model_create(slug=slug, name="Loan default", task="binary_classification")
    return model, version_create(model=model, version=version, features=SCHEMA, stage=stage, threshold=0.5)


def row(i: int, **overrides) -> dict:
    base = {
        "request_id": f"r-{i}",
        "version": "2024-06-01",
        "timestamp": "2024-06-03T10:00:00Z",
        "features": {"income": 1000.0 + i, "region": "north" if i % 2 else "south", "has_car": i % 3 == 0},
        "score": (i % 100) / 100,
        "prediction": int(i % 2),
        "entity_id": f"cust-{i % 7}",
        "segment": "web",
    }
    base.update(overrides)
    return base


def rows(start: int, stop: int) -> list[dict]:
    return [row(i) for i in range(start, stop)]


def post_json(client, url: str, payload, *, gzipped: bool = False):
    body = orjson.dumps(payload)
    headers = {}
    if gzipped:
        body = gzip.compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    return client.generic("POST", url, body, content_type="application/json", **headers)
