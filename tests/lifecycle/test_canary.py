"""Canary / A-B traffic: disjoint requests compared unpaired with an anytime-valid sequence."""

import numpy as np
import pytest

from lifecycle.services.policy import policy_update

from .factories import binary_model, label, log, scored, version

pytestmark = pytest.mark.django_db


def test_disjoint_traffic_is_compared_unpaired(client_with):
    model = binary_model()
    version(model, "v1", stage="production")
    version(model, "v2", stage="canary")
    ya, sa = scored(3000, seed=11, skill=1.0)
    yb, sb = scored(3000, seed=12, skill=3.0)
    log(model, "v1", sa, prefix="prod")
    log(model, "v2", sb, prefix="canary")
    label(model, ya, prefix="prod")
    label(model, yb, prefix="canary", only=range(2000))
    policy_update(model=model, min_pairs=500, min_labels=500, margin=0.02)
    body = client_with("read").get("/api/v1/models/loan-default/compare/?a=v1&b=v2").json()
    assert body["paired"] == 0
    unpaired = body["unpaired"]
    acc_a = float(np.mean((sa >= 0.5) == ya))
    acc_b = float(np.mean((sb[:2000] >= 0.5) == yb[:2000]))
    assert unpaired["a"] == {"labelled": 3000, "accuracy": pytest.approx(acc_a)}
    assert unpaired["b"] == {"labelled": 2000, "accuracy": pytest.approx(acc_b)}
    difference = unpaired["difference"]
    assert difference["value"] == pytest.approx(acc_b - acc_a)
    assert difference["low"] > 0 and unpaired["non_inferior"] is True
    assert body["verdict"] == "better" and "disjoint traffic" in body["reason"]
