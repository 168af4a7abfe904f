"""When is drift worth an alarm: effect size above both the sampling-noise floor and a minimum.

p-values answer "is there any difference", which on large samples is always yes (Evidently
issue #50). Vigil flags drift on effect size (PSI, JS distance) instead, with a threshold
that is the larger of
- the noise floor: the value PSI/JS reach with no shift at all for samples of these sizes,
  at a high quantile, so small windows do not flag sampling noise; and
- a minimum effect: the smallest shift worth a human's attention, so large windows do not
  flag trivial shifts.

Noise floor. With reference proportions p over k bins and counts n_ref, n_cur, under no
shift sum((q - p)^2 / p) ~ chi2(k - 1) * (1/n_ref + 1/n_cur). PSI is that sum to second
order, and the JS divergence (nats) is one eighth of it, so
    psi_noise = chi2.ppf(level, k - 1) * (1/n_ref + 1/n_cur)
    js_noise  = sqrt(psi_noise / (8 ln 2))     (base-2 distance)
Minimum effect. psi_min = 0.05 by default, about a 0.22 sd mean shift of a normal feature
(PSI of a mean shift of d sd is about d^2 on fine bins); js_min is the JS distance of the
same shift, sqrt(psi_min / (8 ln 2)) = 0.095.
"""

import math
from dataclasses import dataclass

from scipy import stats

DEFAULT_PSI_MIN = 0.05
DEFAULT_LEVEL = 0.999
DEFAULT_BINS = 12  # 10 coarse groups plus the two tails


def js_for_psi(psi_value: float) -> float:
    """JS distance (base 2) matching a PSI value to second order (small shifts)."""
    return math.sqrt(max(psi_value, 0.0) / (8 * math.log(2)))


@dataclass(frozen=True)
class DriftThresholds:
    """Thresholds of one comparison: drift if ``psi >= psi`` or ``js >= js``.

    ``psi``/``js`` are the effective thresholds: max(noise floor, minimum effect).
    """

    psi: float
    js: float
    psi_noise: float
    js_noise: float
    psi_min: float
    js_min: float
    n_ref: int
    n_cur: int
    n_bins: int
    level: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def default_thresholds(
    n_ref: int,
    n_cur: int,
    *,
    n_bins: int = DEFAULT_BINS,
    psi_min: float = DEFAULT_PSI_MIN,
    js_min: float | None = None,
    level: float = DEFAULT_LEVEL,
) -> DriftThresholds:
    """Sample-size-aware thresholds for ``n_ref`` reference and ``n_cur`` current values.

    ``n_bins`` is the number of non-empty bins PSI/JS are computed on (coarse groups or
    categories); ``psi_min``/``js_min`` are the per-model minimum effect (``js_min`` defaults
    to the JS distance matching ``psi_min``); ``level`` is the no-shift quantile the noise
    floor sits at (0.999: about one false alarm per thousand feature-windows).
    """
    if n_ref <= 0 or n_cur <= 0:
        raise ValueError("sample sizes must be positive")
    dof = max(n_bins - 1, 1)
    psi_noise = float(stats.chi2.ppf(level, dof)) * (1.0 / n_ref + 1.0 / n_cur)
    js_noise = js_for_psi(psi_noise)
    js_min = js_for_psi(psi_min) if js_min is None else js_min
    return DriftThresholds(
        psi=max(psi_noise, psi_min),
        js=max(js_noise, js_min),
        psi_noise=psi_noise,
        js_noise=js_noise,
        psi_min=psi_min,
        js_min=js_min,
        n_ref=int(n_ref),
        n_cur=int(n_cur),
        n_bins=int(n_bins),
        level=level,
    )


def drift_verdict(*, psi: float, js: float, thresholds: DriftThresholds) -> bool:
    """True when either effect size reaches its threshold."""
    return psi >= thresholds.psi or js >= thresholds.js
