"""Confidence intervals of proportions: Wilson (agreement) and Clopper-Pearson (recall bound)."""

import math

from scipy import stats


def wilson_interval(successes: int, n: int, *, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of ``successes / n`` at ``level``; None when n is 0.

    (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), as statsmodels'
    ``proportion_confint(method="wilson")``.
    """
    if n <= 0:
        return None
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    den = 1 + z * z / n
    return (max(0.0, (centre - spread) / den), min(1.0, (centre + spread) / den))


def clopper_pearson(successes: int, n: int, *, level: float = 0.95) -> tuple[float, float] | None:
    """Exact (Clopper-Pearson) two-sided interval of a proportion from beta quantiles; None when n is 0."""
    if n <= 0:
        return None
    tail = (1 - level) / 2
    low = 0.0 if successes == 0 else float(stats.beta.ppf(tail, successes, n - successes + 1))
    high = 1.0 if successes == n else float(stats.beta.ppf(1 - tail, successes + 1, n - successes))
    return (low, high)
