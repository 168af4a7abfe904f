"""Segments are opt-in per rule: a rule with ``segments`` judges each listed (or every) segment's
windows besides all rows, one alert per segment, grouped into the model's one incident message."""

import pytest

from alerts.conditions import Condition
from alerts.models import Alert, AlertRule, Notification, State
from alerts.services.evaluate import alerts_evaluate

from .factories import hours, make_model

pytestmark = pytest.mark.django_db


def in_segment(conds: list[Condition], segment: str) -> list[Condition]:
    return [Condition(**{**c.__dict__, "segment": segment}) for c in conds]


def perf(pattern: str) -> list[Condition]:
    return hours("performance", pattern, metric="accuracy", bad=0.6, good=0.8, low=0.78, high=1.0)


def _model(slug: str, segments) -> int:
    version = make_model(slug=slug)
    AlertRule.objects.filter(model=version.model).exclude(kind="performance").update(enabled=False)
    AlertRule.objects.filter(model=version.model, kind="performance").update(segments=segments)
    return version.id


def test_a_rule_judges_only_the_segments_it_asks_for_and_groups_them():
    conds = perf("..") + in_segment(perf("xx"), "web") + in_segment(perf("xx"), "branch")
    now = conds[-1].window_end
    # By default a rule reads all rows only: the segments' breaches are not its business.
    plain = _model("loan-plain", False)
    alerts_evaluate(version_id=plain, conditions=conds, now=now)
    assert not Alert.objects.filter(version_id=plain, state=State.FIRING).exists()

    web = _model("loan-web", ["web"])
    alerts_evaluate(version_id=web, conditions=conds, now=now)
    firing = Alert.objects.filter(version_id=web, state=State.FIRING)
    assert [(a.segment, a.kind) for a in firing] == [("web", "performance")]
    assert "segment web" in firing.get().summary
    message = Notification.objects.get(model__slug="loan-web")
    assert "in segment web" in message.subject and "web" in message.body_text

    every = _model("loan-every", True)
    alerts_evaluate(version_id=every, conditions=conds, now=now)
    both = Alert.objects.filter(version_id=every, state=State.FIRING)
    assert sorted(a.segment for a in both) == ["branch", "web"]
    assert len({a.fingerprint for a in both}) == 2
    # One incident message for the model, listing both segments' alerts.
    grouped = Notification.objects.filter(model__slug="loan-every")
    assert grouped.count() == 1 and grouped.get().alerts.count() == 2
