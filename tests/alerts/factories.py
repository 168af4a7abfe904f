"""Models, users and synthetic window conditions for the alerts tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group, User

from alerts.conditions import Condition
from core.roles import DATA_SCIENTISTS
from monitoring.models import MLModel, ModelVersion

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def make_model(slug: str = "loan-default", email: str = "ds@example.com") -> ModelVersion:
    model = MLModel.objects.create(slug=slug, name=slug, task="binary_classification")
    if email and not User.objects.filter(email=email).exists():
        user = User.objects.create_user(email.split("@")[0], email, "pw")
        user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
    return ModelVersion.objects.create(model=model, version="v1", stage="production", threshold=0.5,
                                       features=[{"name": f, "type": "numeric"} for f in ("income", "age", "debt")])


def cond(kind: str, start: datetime, *, feature: str = "", value: float = 0.1, breached: bool = False,
         judged: bool = True, low: float | None = 0.0, high: float | None = 0.2, metric: str = "", n: int = 500,
         step: timedelta = HOUR) -> Condition:
    return Condition(window_start=start, window_end=start + step, kind=kind, feature=feature, value=value,
                     low=low, high=high, breached=breached, judged=judged, n=n, metric=metric or kind)


def hours(kind: str, pattern: str, *, end: datetime = NOW, feature: str = "", bad: float = 0.4, good: float = 0.1,
          **kw) -> list[Condition]:
    """One condition per hour ending at ``end``: "x" breached, "." fine, "?" not judged."""
    start = end - HOUR * len(pattern)
    return [
        cond(kind, start + HOUR * i, feature=feature, value=bad if ch == "x" else good, breached=ch == "x",
             judged=ch != "?", **kw)
        for i, ch in enumerate(pattern)
    ]
