import pandas as pd

from . import delivery, loan, recs
from .model import DemoModel


def build_scenario(*, now: pd.Timestamp | None = None, scale: float = 1.0, days: int = 30) -> list[DemoModel]:
    """The three demo models with ``days`` days of traffic ending at ``now`` (UTC).

    ``scale`` multiplies the traffic (1.0: about 2,000 loan decisions a day). The same
    ``now``/``scale``/``days`` give the same data: every random draw has a fixed seed.
    """
    if days < 10:
        raise ValueError("days must be at least 10 so the scenario's shifts fit in")
    if scale <= 0:
        raise ValueError("scale must be positive")
    now = pd.Timestamp.now(tz="UTC").floor("s") if now is None else pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    return [
        loan.build(now=now, days=days, scale=scale),
        delivery.build(now=now, days=days, scale=scale),
        recs.build(now=now, days=days, scale=scale),
    ]
