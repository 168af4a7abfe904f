"""Anytime-valid confidence sequences, so a comparison may be checked every day.

A fixed-sample interval checked daily until it excludes zero finds a "difference" far more
often than its nominal 5% (about 30% over a month). A confidence sequence holds at all
times at once. We use the two-sided normal-mixture boundary (Robbins 1970; Howard, Ramdas,
McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences",
eq. (14)), applied to the estimate's central-limit approximation as in Waudby-Smith et al.
(2021, "Time-uniform central limit theory and asymptotic confidence sequences"):

    with information tau = 1 / Var(estimate) (grows with the sample), S = tau (estimate - truth)
    behaves as a Brownian motion in tau, and the mixture martingale
        M = sqrt(rho / (tau + rho)) exp(S^2 / (2 (tau + rho)))
    exceeds 1/alpha at any time with probability <= alpha (Ville). Hence at every tau
        |estimate - truth| <= sqrt((tau + rho) log((tau + rho) / (rho alpha^2))) / tau.

``rho`` only moves where the sequence is tightest: ``rho_for`` picks the value that makes it
narrowest at a planned information (Howard et al., section 3.5).
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Sequence:
    estimate: float
    low: float
    high: float

    def excludes(self, value: float) -> bool:
        return not (self.low <= value <= self.high)


def rho_for(information: float, *, alpha: float = 0.05) -> float:
    """Mixture variance that makes the boundary (nearly) tightest at ``information``."""
    lg = 2 * math.log(1 / alpha)
    return information / (lg + math.log(1 + lg))


def radius(information: float, *, alpha: float = 0.05, rho: float) -> float:
    """Half-width of the confidence sequence at ``information`` = 1 / Var(estimate)."""
    if information <= 0:
        return math.inf
    total = information + rho
    return math.sqrt(total * math.log(total / (rho * alpha * alpha))) / information


def mean_sequence(mean: float, variance: float, n: int, *, alpha: float = 0.05, rho: float | None = None) -> Sequence:
    """Sequence for the mean of ``n`` iid values with (sample) ``variance`` per value.

    ``rho`` defaults to tightest at n = 1,000 values of this variance.
    """
    if n <= 0:
        return Sequence(math.nan, -math.inf, math.inf)
    variance = max(variance, 1.0 / (n + 1) ** 2)
    rho = rho if rho is not None else rho_for(1000 / variance, alpha=alpha)
    r = radius(n / variance, alpha=alpha, rho=rho)
    return Sequence(mean, mean - r, mean + r)


def _smoothed(successes: int, n: int) -> float:
    # Only for the variance: an arm at 0% or 100% must not claim zero variance.
    p = (successes + 0.5) / (n + 1)
    return p * (1 - p) / n


def difference_sequence(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, alpha: float = 0.05, rho: float | None = None
) -> Sequence:
    """Sequence for p_b - p_a of two independent Bernoulli arms (canary / A-B traffic).

    Var(estimate) = p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b (plug-in); ``rho`` defaults to
    tightest at 1,000 rows per arm with p = 1/2 (information 2,000).
    """
    if n_a <= 0 or n_b <= 0:
        return Sequence(math.nan, -math.inf, math.inf)
    estimate = successes_b / n_b - successes_a / n_a
    variance = _smoothed(successes_a, n_a) + _smoothed(successes_b, n_b)
    rho = rho if rho is not None else rho_for(2000.0, alpha=alpha)
    r = radius(1.0 / variance, alpha=alpha, rho=rho)
    return Sequence(estimate, estimate - r, estimate + r)


def non_inferior(sequence: Sequence, margin: float) -> bool:
    """True when the change's lower bound is above -margin (b is not worse by margin or more)."""
    return sequence.low > -margin
