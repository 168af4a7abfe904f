"""Column-wise validation helpers, without a database."""

import math
from unittest import TestCase

import numpy as np

from monitoring.services.validation import (
    RowErrors,
    check_features,
    check_id,
    check_labels,
    check_number,
    check_timestamps,
    quality_add,
)

NOW = 1_717_408_800 * 10**9  # 2024-06-03T10:00:00Z


class NumberTests(TestCase):
    def test_fast_path_and_nulls(self):
        errors = RowErrors(3)
        values = check_number([1, 2.5, None], "score", errors, required=False)
        self.assertEqual(errors.by_row, {})
        self.assertEqual(values[:2].tolist(), [1.0, 2.5])
        self.assertTrue(math.isnan(values[2]))

    def test_required_wrong_type_and_non_finite(self):
        errors = RowErrors(5)
        check_number([1, None, "2", True, float("nan")], "score", errors, required=True)
        self.assertEqual(errors.by_row, {
            1: ["score: required"],
            2: ["score: expected a number, got string"],
            3: ["score: expected a number, got boolean"],
            4: ["score: must be a finite number (no NaN or infinity)"],
        })

    def test_huge_integer_is_not_finite(self):
        errors = RowErrors(1)
        check_number([10**400], "score", errors, required=True)
        self.assertIn("finite", errors.by_row[0][0])


class IdTests(TestCase):
    def test_ints_become_strings_and_bad_values_are_named(self):
        errors = RowErrors(5)
        out = check_id(["a", 7, None, 1.5, "x" * 201], "request_id", errors, required=True)
        self.assertEqual(out[:2], ["a", "7"])
        self.assertEqual(sorted(errors.by_row), [2, 3, 4])
        self.assertEqual(errors.by_row[3], ["request_id: expected a string, got number"])


class TimestampTests(TestCase):
    def test_formats_offsets_and_future(self):
        errors = RowErrors(6)
        ns = check_timestamps(
            ["2024-06-03T10:00:00Z", "2024-06-03T12:00:00+02:00", "2024-06-03T10:00:00.1234567",
             "2024-06-05T10:00:01Z", "garbage", 5],
            errors, now_ns=NOW, max_future_s=86400)
        self.assertEqual(ns[0], NOW)
        self.assertEqual(ns[1], NOW)
        self.assertEqual(ns[2], NOW + 123_456_000)  # truncated to microseconds
        self.assertEqual(sorted(errors.by_row), [3, 4, 5])
        self.assertIn("future", errors.by_row[3][0])

    def test_optional_timestamps_default_to_now(self):
        errors = RowErrors(1)
        self.assertEqual(check_timestamps([None], errors, now_ns=NOW, max_future_s=0, required=False)[0], NOW)
        self.assertEqual(errors.by_row, {})


class FeatureTests(TestCase):
    schema = [
        {"name": "age", "type": "numeric", "nullable": False, "min": 18, "max": 99},
        {"name": "city", "type": "categorical", "categories": ["paris", "rome"]},
        {"name": "vip", "type": "boolean"},
    ]

    def test_columns_soft_problems_and_quality(self):
        feats = [
            {"age": 30, "city": "paris", "vip": True},
            {"age": None, "city": "oslo", "vip": False, "extra": 1},
            {"age": 120, "city": None},
            {"age": 40, "city": "oslo", "vip": None},
        ]
        errors = RowErrors(4)
        cols = check_features(self.schema, feats, errors, np.arange(4))
        self.assertEqual(errors.by_row, {})
        self.assertEqual(cols.arrays["age"][[0, 2, 3]].tolist(), [30.0, 120.0, 40.0])
        self.assertEqual(cols.arrays["city"].tolist(), ["paris", "oslo", None, "oslo"])
        self.assertTrue(np.isnan(cols.arrays["vip"][2]))
        quality: dict = {}
        quality_add(quality, cols, np.array([True, True, True, False]))
        self.assertEqual(quality, {"age": {"nulls": 1, "out_of_range": 1}, "city": {"unseen": {"oslo": 1}},
                                   "extra": {"unknown": 1}})

    def test_wrong_types_are_hard_errors_at_the_original_index(self):
        feats = [{"age": "30"}, {"city": 5}, {"vip": "true"}]
        errors = RowErrors(10)
        check_features(self.schema, feats, errors, np.array([4, 7, 9]))
        self.assertEqual(errors.by_row, {
            4: ["features.age: expected a number, got string"],
            7: ["features.city: expected a string, got integer"],
            9: ["features.vip: expected true or false, got string"],
        })


class LabelTests(TestCase):
    def test_binary(self):
        errors = RowErrors(5)
        out = check_labels([0, 1, True, 1.0, "1"], errors, task="binary_classification", classes=None)
        self.assertEqual(out[:4], [0, 1, 1, 1])
        self.assertEqual(list(errors.by_row), [4])

    def test_multiclass_matches_by_text(self):
        errors = RowErrors(3)
        out = check_labels([2, "b", "z"], errors, task="multiclass_classification", classes=["b", 2])
        self.assertEqual(out[:2], [2, "b"])
        self.assertEqual(list(errors.by_row), [2])


def test_feature_columns_transpose_rows_with_and_without_missing_keys():
    from monitoring.services.validation import _feature_columns

    complete = [{"a": 1, "b": "x"}, {"b": "y", "a": 2.5}]
    assert [list(c) for c in _feature_columns(["a", "b"], complete)] == [[1, 2.5], ["x", "y"]]
    assert [list(c) for c in _feature_columns(["b"], complete)] == [["x", "y"]]
    gappy = [{"a": 1}, {"b": "y"}]
    assert [list(c) for c in _feature_columns(["a", "b"], gappy)] == [[1, None], [None, "y"]]
    assert [list(c) for c in _feature_columns(["a", "b"], [])] == [[], []]
    assert _feature_columns([], complete) == []
