"""Volume anomalies and quality rates."""

import numpy as np

from monitoring.engine.stats.quality import rates, volume_anomaly


def test_normal_volume_not_flagged_and_drop_flagged():
    history = np.array([1000, 980, 1030, 1010, 995, 1020, 990])
    assert not volume_anomaly(history, 1040)["is_anomaly"]
    drop = volume_anomaly(history, 300)
    assert drop["is_anomaly"] and drop["direction"] == "low" and drop["expected"] == 1000
    spike = volume_anomaly(history, 3000)
    assert spike["is_anomaly"] and spike["direction"] == "high"


def test_tiny_and_perfectly_regular_volumes_need_a_real_difference():
    # MAD 0 would make any change infinite; the Poisson floor keeps one extra row quiet.
    assert not volume_anomaly(np.array([5, 5, 5, 5]), 7)["is_anomaly"]
    assert not volume_anomaly(np.array([0, 0, 0]), 3)["is_anomaly"]
    assert volume_anomaly(np.array([400, 400, 400]), 0)["is_anomaly"]


def test_short_history_never_flags():
    result = volume_anomaly(np.array([100, 100]), 0)
    assert result["is_anomaly"] is False and result["z"] is None and result["expected"] == 100
    assert volume_anomaly(np.array([]), 5)["expected"] is None


def test_rates():
    assert rates(count=200, nulls=10, out_of_range=4, unseen=0) == {
        "null_rate": 0.05,
        "out_of_range_rate": 0.02,
        "unseen_rate": 0.0,
    }
    assert rates(count=0, nulls=0, out_of_range=0, unseen=0)["null_rate"] is None
