"""Data quality: row-volume anomalies and null / out-of-range / unseen rates."""

import numpy as np

MAD_TO_SD = 1.4826  # MAD of a normal sample times this estimates its standard deviation


def volume_anomaly(
    history: np.ndarray, current: int, *, z_threshold: float = 4.0, min_history: int = 3, min_delta: int = 10
) -> dict:
    """Is ``current`` (rows this hour) abnormal against ``history`` (rows in the same hour on
    previous days)?

    expected = median(history); spread = max(1.4826 * MAD, sqrt(expected), 1) so that a
    perfectly regular history or a tiny volume does not turn one extra row into an alarm
    (counts vary at least like a Poisson variable). Flags when |z| >= ``z_threshold``, the
    row difference is at least ``min_delta`` and there are ``min_history`` days of history.
    Returns {"expected", "spread", "z", "is_anomaly", "direction" ("high"/"low"/None)}.
    """
    h = np.asarray(history, dtype=np.float64)
    h = h[np.isfinite(h)]
    if h.size < min_history:
        return {
            "expected": float(np.median(h)) if h.size else None,
            "spread": None,
            "z": None,
            "is_anomaly": False,
            "direction": None,
        }
    expected = float(np.median(h))
    mad = float(np.median(np.abs(h - expected)))
    spread = max(MAD_TO_SD * mad, float(np.sqrt(expected)), 1.0)
    z = (current - expected) / spread
    anomaly = abs(z) >= z_threshold and abs(current - expected) >= min_delta
    return {
        "expected": expected,
        "spread": spread,
        "z": float(z),
        "is_anomaly": bool(anomaly),
        "direction": ("high" if z > 0 else "low") if anomaly else None,
    }


def rates(*, count: int, nulls: int, out_of_range: int, unseen: int) -> dict:
    """Fractions of ``count`` rows: {"null_rate", "out_of_range_rate", "unseen_rate"}; None if no rows."""
    if count <= 0:
        return {"null_rate": None, "out_of_range_rate": None, "unseen_rate": None}
    return {
        "null_rate": nulls / count,
        "out_of_range_rate": out_of_range / count,
        "unseen_rate": unseen / count,
    }
