"""What a verdict is made of: findings (the model now) and window conditions (each window).

The health endpoint, the overview, the model page's summary and the alerts all read these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The finding kinds of the API contract ("Health"), in the order a page lists them.
KINDS = (
    "no_data",
    "performance",
    "concept_drift",
    "estimated_performance",
    "label_shift",
    "volume",
    "quality",
    "drift",
    "prediction_drift",
    "multivariate_drift",
    "staleness",
)
SEVERITIES = ("warning", "critical")
STATUSES = ("ok", "warning", "critical", "no_data")


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a model now: what, since when, how sure, in plain words.

    ``value`` is the judged metric's current value and ``expected`` the band it should be
    in (learned from history, or the reference's with its confidence interval); ``interval``
    the confidence interval of ``value`` where it comes from counts; ``n`` the rows (or
    labelled rows) behind it; ``basis`` how the band was set.
    """

    kind: str
    severity: str  # "warning" | "critical"
    summary: str
    since: datetime | None = None
    features: tuple[str, ...] = ()
    metric: str | None = None
    value: float | None = None
    expected: tuple[float, float] | None = None
    interval: tuple[float, float] | None = None
    n: int | None = None
    basis: str = ""
    granularity: str = "day"

    def to_dict(self) -> dict:
        """The contract's shape (plus ``interval``, ``n``, ``basis``: additive fields)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "summary": self.summary,
            "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
            "features": list(self.features),
            "metric": self.metric,
            "value": self.value,
            "expected": list(self.expected) if self.expected else None,
            "interval": list(self.interval) if self.interval else None,
            "n": self.n,
            "basis": self.basis,
        }


@dataclass
class WindowCondition:
    """Whether one window breaches its band, for one kind and feature (or none).

    ``judged`` is False when the window is too small, still open, or (performance) its
    labels have not matured: then ``breached`` is False and ``detail["reason"]`` says why.
    """

    window_start: datetime
    window_end: datetime
    granularity: str
    kind: str
    features: tuple[str, ...]
    metric: str | None
    value: float | None
    expected: tuple[float, float] | None
    breached: bool
    judged: bool
    n: int
    detail: dict = field(default_factory=dict)


@dataclass
class Health:
    """A model's verdict: its status and findings (most severe first), plus notes on what
    could not be judged (too-small windows, labels not in yet)."""

    status: str  # ok | warning | critical | no_data
    reasons: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "No drift, data-quality or performance problem."

    def to_dict(self) -> dict:
        return {"status": self.status, "findings": [f.to_dict() for f in self.findings], "notes": list(self.notes)}


def health_of(findings: list[Finding], notes: list[str] | None = None, *, no_data: bool = False) -> Health:
    """Status from the findings: critical if any is, warning if any, else ok."""
    order = {k: i for i, k in enumerate(KINDS)}
    findings = sorted(findings, key=lambda f: (f.severity != "critical", order.get(f.kind, 99)))
    if no_data and not findings:
        status = "no_data"
    elif any(f.severity == "critical" for f in findings):
        status = "critical"
    elif findings:
        status = "warning"
    else:
        status = "ok"
    return Health(status, [f.summary for f in findings], findings, list(notes or []))
