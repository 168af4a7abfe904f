"""Mergeable moments: count, mean, M2 (sum of squared deviations), min, max."""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Moments:
    """Summary of a stream of numbers, mergeable exactly (Chan et al. parallel update).

    ``min``/``max`` are None while ``count`` is 0. Units are those of the values; ``m2`` is
    in units squared.
    """

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float | None = None
    max: float | None = None

    @classmethod
    def from_values(cls, values: np.ndarray) -> "Moments":
        """Moments of the non-NaN ``values``."""
        x = np.asarray(values, dtype=np.float64).ravel()
        x = x[~np.isnan(x)]
        if x.size == 0:
            return cls()
        mean = float(x.mean())
        return cls(
            count=int(x.size),
            mean=mean,
            m2=float(((x - mean) ** 2).sum()),
            min=float(x.min()),
            max=float(x.max()),
        )

    def merge(self, other: "Moments") -> "Moments":
        """Moments of the union of both streams."""
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        n = self.count + other.count
        delta = other.mean - self.mean
        return Moments(
            count=n,
            mean=self.mean + delta * other.count / n,
            m2=self.m2 + other.m2 + delta * delta * self.count * other.count / n,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
        )

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof=1); None below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1); None below two values."""
        v = self.variance
        return math.sqrt(max(v, 0.0)) if v is not None else None

    def to_dict(self) -> dict:
        return {"count": self.count, "mean": self.mean, "m2": self.m2, "min": self.min, "max": self.max}

    @classmethod
    def from_dict(cls, d: dict) -> "Moments":
        return cls(
            count=int(d["count"]),
            mean=float(d["mean"]),
            m2=float(d["m2"]),
            min=None if d.get("min") is None else float(d["min"]),
            max=None if d.get("max") is None else float(d["max"]),
        )
