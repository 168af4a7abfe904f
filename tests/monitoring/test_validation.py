"""Column-wise validation helpers, without a database."""

import math

import numpy as np

from monitoring.engine.validation import (
    Limits,
    RowErrors,
    check_features,
    check_id,
    check_labels,
    check_number,
    check_timestamps,
    quality_add,
)

NOW = 1_717_408_800 * 10**9  # 2024-06-03T10:00:00Z
LIMITS = Limits(category_chars=200, unknown_keys=20, feature_key_chars=200)


def test_number_fast_path_and_nulls():
    errors = RowErrors(3)
    values = check_number([1, 2.5, None], "score", errors, required=False)
    assert errors.by_row == {}
    assert values[:2].tolist() == [1.0, 2.5]
    assert math.isnan(values[2])


def test_number_required_wrong_type_and_non_finite():
    errors = RowErrors(5)
    check_number([1, None, "2", True, float("nan")], "score", errors, required=True)
    assert errors.by_row == {
        1: ["score: required"],
        2: ["score: expected a number, got string"],
        3: ["score: expected a number, got boolean"],
        4: ["score: must be a finite number (no NaN or infinity)"],
    }


def test_number_huge_integer_is_not_finite():
    errors = RowErrors(1)
    check_number([10**400], "score", errors, required=True)
    assert "finite" in errors.by_row[0][0]


def test_id_ints_become_strings_and_bad_values_are_named():
    errors = RowErrors(5)
    out = check_id(["a", 7, None, 1.5, "x" * 201], "request_id", errors, required=True)
    assert out[:2] == ["a", "7"]
    assert sorted(errors.by_row) == [2, 3, 4]
    assert errors.by_row[3] == ["request_id: expected a string, got number"]


def test_timestamp_formats_offsets_and_future():
    errors = RowErrors(6)
    ns = check_timestamps(
        ["2024-06-03T10:00:00Z", "2024-06-03T12:00:00+02:00", "2024-06-03T10:00:00.1234567",
         "2024-06-05T10:00:01Z", "garbage", 5],
        errors, now_ns=NOW, max_future_s=86400)
    assert ns[0] == NOW
    assert ns[1] == NOW
    assert ns[2] == NOW + 123_456_000  # truncated to microseconds
    assert sorted(errors.by_row) == [3, 4, 5]
    assert "future" in errors.by_row[3][0]


def test_timestamp_optional_defaults_to_now():
    errors = RowErrors(1)
    assert check_timestamps([None], errors, now_ns=NOW, max_future_s=0, required=False)[0] == NOW
    assert errors.by_row == {}


SCHEMA = [
    {"name": "age", "type": "numeric", "nullable": False, "min": 18, "max": 99},
    {"name": "city", "type": "categorical", "categories": ["paris", "rome"]},
    {"name": "vip", "type": "boolean"},
]


def test_features_columns_soft_problems_and_quality():
    feats = [
        {"age": 30, "city": "paris", "vip": True},
        {"age": None, "city": "oslo", "vip": False, "extra": 1},
        {"age": 120, "city": None},
        {"age": 40, "city": "oslo", "vip": None},
    ]
    errors = RowErrors(4)
    cols = check_features(SCHEMA, feats, errors, np.arange(4), limits=LIMITS)
    assert errors.by_row == {}
    assert cols.arrays["age"][[0, 2, 3]].tolist() == [30.0, 120.0, 40.0]
    assert cols.arrays["city"].tolist() == ["paris", "oslo", None, "oslo"]
    assert np.isnan(cols.arrays["vip"][2])
    quality: dict = {}
    quality_add(quality, cols, np.array([True, True, True, False]))
    assert quality == {"age": {"nulls": 1, "out_of_range": 1}, "city": {"unseen": {"oslo": 1}}, "extra": {"unknown": 1}}


def test_features_wrong_types_are_hard_errors_at_the_original_index():
    feats = [{"age": "30"}, {"city": 5}, {"vip": "true"}]
    errors = RowErrors(10)
    check_features(SCHEMA, feats, errors, np.array([4, 7, 9]), limits=LIMITS)
    assert errors.by_row == {
        4: ["features.age: expected a number, got string"],
        7: ["features.city: expected a string, got integer"],
        9: ["features.vip: expected true or false, got string"],
    }


def test_labels_binary():
    errors = RowErrors(5)
    out = check_labels([0, 1, True, 1.0, "1"], errors, task="binary_classification", classes=None)
    assert out[:4] == [0, 1, 1, 1]
    assert list(errors.by_row) == [4]


def test_labels_multiclass_matches_by_text():
    errors = RowErrors(3)
    out = check_labels([2, "b", "z"], errors, task="multiclass_classification", classes=["b", 2])
    assert out[:2] == [2, "b"]
    assert list(errors.by_row) == [2]


def test_feature_columns_transpose_rows_with_and_without_missing_keys():
    from monitoring.engine.validation import _feature_columns

    complete = [{"a": 1, "b": "x"}, {"b": "y", "a": 2.5}]
    assert [list(c) for c in _feature_columns(["a", "b"], complete)] == [[1, 2.5], ["x", "y"]]
    assert [list(c) for c in _feature_columns(["b"], complete)] == [["x", "y"]]
    gappy = [{"a": 1}, {"b": "y"}]
    assert [list(c) for c in _feature_columns(["a", "b"], gappy)] == [[1, None], [None, "y"]]
    assert [list(c) for c in _feature_columns(["a", "b"], [])] == [[], []]
    assert _feature_columns([], complete) == []


def test_feature_limits_come_in_as_arguments():
    """The engine reads no settings: the caller's limits decide what a row may carry."""
    schema = [{"name": "region", "type": "categorical", "nullable": True}]
    feats = [{"region": "abcdef"}, {"region": "ab", "k1": 1, "k2": 2}]
    tight = Limits(category_chars=5, unknown_keys=1, feature_key_chars=200)
    errors = RowErrors(2)
    check_features(schema, feats, errors, np.arange(2), limits=tight)
    assert sorted(errors.by_row) == [0, 1]
    assert "longer than 5" in errors.by_row[0][0]
    loose = RowErrors(2)
    check_features(schema, feats, loose, np.arange(2), limits=LIMITS)
    assert not loose.by_row
