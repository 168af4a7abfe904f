"""Binned statistics vs the raw-value reference (scipy / scikit-learn), side by side.

Run: .venv/bin/python bench/bench_stats.py [rows]   (default 1,000,000 current rows)
Prints the median of 3 runs of each and the ratio; also the largest disagreement.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.engine.stats.binning import bin_counts, probability_edges, quantile_edges  # noqa: E402
from monitoring.engine.stats.drift import feature_drift  # noqa: E402
from monitoring.engine.stats.performance import roc_auc_from_counts  # noqa: E402

N_FEATURES = 5
N_REF = 100_000


def _median_time(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(rows: int) -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(N_REF, N_FEATURES))
    cur = rng.normal(size=(rows, N_FEATURES)) * np.linspace(1.0, 1.5, N_FEATURES) + np.linspace(
        0, 0.3, N_FEATURES
    )
    edges = [quantile_edges(ref[:, j]) for j in range(N_FEATURES)]
    ref_counts = [bin_counts(ref[:, j], edges[j]) for j in range(N_FEATURES)]

    def binned():
        return [
            feature_drift(ref_counts=ref_counts[j], cur_counts=bin_counts(cur[:, j], edges[j]))[
                "ks_statistic"
            ]
            for j in range(N_FEATURES)
        ]

    def raw():
        return [stats.ks_2samp(ref[:, j], cur[:, j]).statistic for j in range(N_FEATURES)]

    cur_counts = [bin_counts(cur[:, j], edges[j]) for j in range(N_FEATURES)]
    t_stats, _ = _median_time(
        lambda: [feature_drift(ref_counts=ref_counts[j], cur_counts=cur_counts[j]) for j in range(N_FEATURES)]
    )
    t_bin, ks_bin = _median_time(binned)
    t_raw, ks_raw = _median_time(raw)
    print(f"drift, {rows:,} rows x {N_FEATURES} features vs {N_REF:,} reference rows")
    print(f"  binned (count + PSI/JS/KS/verdict): {t_bin:.3f} s")
    print(f"  statistics from stored counts only: {t_stats:.4f} s (what a dashboard read costs)")
    print(f"  scipy ks_2samp on raw values:       {t_raw:.3f} s   ratio raw/binned {t_raw / t_bin:.1f}x")
    print(f"  largest KS disagreement: {max(abs(a - b) for a, b in zip(ks_bin, ks_raw, strict=True)):.5f}")

    x = cur[:, 0]
    e = edges[0]
    t_fast, _ = _median_time(lambda: bin_counts(x, e))
    t_search, _ = _median_time(lambda: np.bincount(np.searchsorted(e, x, side="right"), minlength=len(e) + 1))
    print(f"bin counting, {rows:,} values into {len(e) + 1} bins")
    print(f"  bin_counts (lookup table):   {t_fast * 1000:.1f} ms")
    print(f"  searchsorted + bincount:     {t_search * 1000:.1f} ms   ratio {t_search / t_fast:.1f}x")

    logit = rng.normal(size=rows) * 2 - 1
    scores = 1 / (1 + np.exp(-logit))
    labels = (rng.random(rows) < scores).astype(int)
    pe = probability_edges(include=(0.5,))

    def auc_binned():
        return roc_auc_from_counts(bin_counts(scores[labels == 1], pe), bin_counts(scores[labels == 0], pe))

    t_auc_bin, auc_bin = _median_time(auc_binned)
    t_auc_raw, auc_raw = _median_time(lambda: roc_auc_score(labels, scores))
    print(f"ROC AUC, {rows:,} labelled rows")
    print(f"  binned counts: {t_auc_bin:.3f} s")
    print(f"  sklearn:       {t_auc_raw:.3f} s   ratio {t_auc_raw / t_auc_bin:.1f}x")
    print(f"  disagreement:  {abs(auc_bin - auc_raw):.2e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
