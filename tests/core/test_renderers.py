"""The API's one JSON renderer: what orjson does with the values the views hand it."""

import datetime as dt
import decimal

import numpy as np
import orjson

from core.api.renderers import ORJSONRenderer


def render(data):
    return ORJSONRenderer().render(data)


def test_values_views_hand_it():
    at = dt.datetime(2026, 11, 21, 9, 0, 0, 250000, tzinfo=dt.UTC)
    body = orjson.loads(render({"at": at, "day": at.date(), "n": np.int64(3), "x": np.float64(0.5),
                                "bad": float("nan"), "inf": float("inf"), "money": decimal.Decimal("1.5"),
                                1: "non-string key"}))
    assert body == {"at": "2026-11-21T09:00:00.250000Z", "day": "2026-11-21", "n": 3, "x": 0.5, "bad": None,
                    "inf": None, "money": 1.5, "1": "non-string key"}


def test_no_body_for_none():
    assert render(None) == b""
