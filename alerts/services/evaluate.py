"""Evaluation: feed each rule the version's new windows, move alert states, write the outbox."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Max, Min

from core.locks import LockSpace, advisory_lock
from monitoring.models import AnalysisResult, ModelVersion

from .. import clock
from ..conditions import Condition, conditions_read, rule_breached
from ..models import FEATURE_KINDS, Alert, AlertEvent, AlertRule, AlertWindow, EvaluationCursor, State
from .headline import alert_summary, comparison
from .notify import incidents_enqueue

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# Analyses of a version are serialised (a lock held until commit), so one committed after a read
# was computed after it; the slack only covers clock skew between workers.
RECOMPUTE_SLACK = timedelta(seconds=1)


@dataclass
class Transition:
    alert: Alert
    state: str
    window_end: datetime
    notify: bool  # False for backfilled windows (older than the rule's lookback)
    note: str = ""


def fingerprint(*, rule_id: int, version_id: int, segment: str, features: list[str]) -> str:
    key = f"{rule_id}|{version_id}|{segment}|{','.join(sorted(features))}"
    return hashlib.sha256(key.encode()).hexdigest()


def alerts_evaluate(*, version_id: int, now: datetime | None = None, conditions: list[Condition] | None = None) -> list[Transition]:
    """Evaluate every enabled rule of the version's model on its windows not yet consumed.

    ``conditions`` (tests, benchmarks) replaces the read of the health conditions. Returns the
    transitions; the messages they call for are in the outbox when this returns."""
    now = now or clock.now()
    version = ModelVersion.objects.select_related("model").get(pk=version_id)
    rules = list(AlertRule.objects.filter(model_id=version.model_id, enabled=True))
    if not rules:
        return []
    with transaction.atomic():
        # One evaluation of a version at a time: cursors and streaks are read-modify-write.
        advisory_lock(LockSpace.ALERT_EVALUATION, version_id)
        cursors = {c.rule_id: c for c in EvaluationCursor.objects.filter(version=version, rule__in=rules)}
        analysed = None
        if conditions is not None:
            found = conditions
        else:
            found, analysed = _read(version, rules, cursors, now)
        alerts = {a.fingerprint: a for a in Alert.objects.filter(version=version, rule__in=rules)}
        transitions: list[Transition] = []
        for rule in rules:
            cursor = cursors.get(rule.id) or EvaluationCursor(rule=rule, version=version, window_end=EPOCH)
            transitions += _rule_evaluate(rule, version, found, cursor, alerts, now)
            if analysed is not None:
                cursor.analysed_through, cursor.read_until = analysed, now
            if cursor.pk is None:
                if cursor.window_end > EPOCH or analysed is not None:
                    cursor.save()
            else:
                cursor.save(update_fields=["window_end", "analysed_through", "read_until"])
        incidents_enqueue(model=version.model, transitions=transitions, now=now)
    return transitions


def _read(version, rules, cursors, now) -> tuple[list[Condition], datetime | None]:
    """The conditions the rules still need, and the newest analysis time they were read at.

    A rule's cursor stops at its oldest window not judged yet (labels not matured), so reading
    from the cursors alone would re-judge the same old windows every cycle. Those windows are
    read again only when re-analysed since the last read (new labels recompute them), as are
    windows starting after the last read's ``now`` (new, or missing: no data)."""
    results = AnalysisResult.objects.filter(version=version)
    analysed = results.aggregate(analysed=Max("computed_at"))["analysed"]
    if analysed is None:
        return [], None
    # A rule that never consumed a window starts at the version's first analysed window of its
    # granularity (not at 1970: the health selector lists missing windows, and there would be half
    # a million; nor at its first day's midnight: the hours before its first prediction held none).
    firsts = dict(results.order_by().values_list("granularity").annotate(first=Min("window_start")))
    # A rule with no cursor yet (new rule, first evaluation) reads everything from the first window.
    marks = [cursors.get(r.id) for r in rules]
    complete = all(c is not None and c.analysed_through and c.read_until for c in marks)
    found: list[Condition] = []
    for granularity in {r.granularity for r in rules}:
        first = firsts.get(granularity)
        if first is None:
            continue
        starts = [max(cursors[r.id].window_end, first) if r.id in cursors else first
                  for r in rules if r.granularity == granularity]
        start = min(starts)
        if complete:
            seen = min(c.analysed_through for c in marks) - RECOMPUTE_SLACK
            since = min(c.read_until for c in marks) - STEP[granularity]
            changed = (results.filter(granularity=granularity, segment="", window_start__gte=start,
                                      window_start__lt=since, computed_at__gt=seen)
                       .aggregate(start=Min("window_start"))["start"])
            start = max(start, min(changed or since, since))
        found += conditions_read(version=version, granularity=granularity, start=start, end=now + STEP[granularity],
                                 now=now)
    return found, analysed


def _rank(rule, c: Condition) -> int:
    verdict = rule_breached(rule.threshold, c)
    return 2 if verdict else 1 if verdict is not None else 0


def _rule_evaluate(rule, version, found, cursor, alerts, now) -> list[Transition]:
    per_window: dict[tuple[str, datetime], Condition] = {}
    for c in found:
        if c.kind != rule.kind or c.window_end <= cursor.window_end or c.window_end - c.window_start != STEP[rule.granularity]:
            continue
        if rule.kind in FEATURE_KINDS and rule.features and c.feature not in rule.features:
            continue
        key = (c.feature if rule.kind in FEATURE_KINDS else "", c.window_start)
        # A model-level kind judged on several metrics (performance: accuracy and ROC AUC) is one
        # alert: the window counts when any judged metric breaches; that metric is the one shown.
        held = per_window.get(key)
        if held is None or _rank(rule, c) > _rank(rule, held):
            per_window[key] = c
    series: dict[str, list[Condition]] = {}
    for (feature, _), c in per_window.items():
        series.setdefault(feature, []).append(c)
    out: list[Transition] = []
    horizon = now - timedelta(hours=rule.lookback_hours)
    for feature, conds in series.items():
        conds.sort(key=lambda c: c.window_start)
        features = [feature] if feature else []
        key = fingerprint(rule_id=rule.id, version_id=version.id, segment="", features=features)
        alert = alerts.get(key)
        for c in conds:
            closed = c.window_end <= now
            verdict = rule_breached(rule.threshold, c)
            if alert is None:
                if not verdict:
                    if closed and verdict is not None:
                        cursor.window_end = max(cursor.window_end, c.window_end)
                    continue
                alert = alerts[key] = Alert.objects.create(
                    rule=rule, model_id=version.model_id, version=version, features=features,
                    fingerprint=key, kind=rule.kind, severity=rule.severity,
                )
            if verdict is not None:
                AlertWindow.objects.update_or_create(
                    alert=alert, window_start=c.window_start,
                    defaults={"window_end": c.window_end, "value": c.value, "low": c.low, "high": c.high,
                              "breached": verdict, "n": c.n},
                )
            if closed:
                # An unjudged window (labels not matured yet) is read again next time.
                if verdict is not None:
                    cursor.window_end = max(cursor.window_end, c.window_end)
                state = alert.observe_no_data() if verdict is None else alert.observe(
                    breached=verdict, window_end=c.window_end, for_windows=rule.for_windows,
                    keep_firing_for=rule.keep_firing_for)
            elif verdict and alert.state != State.FIRING and alert.breach_streak + 1 >= rule.for_windows:
                # The newest, still-open window fires once it holds enough rows; it is fed again
                # when it closes, so its breach is not counted twice.
                streak, last = alert.breach_streak, alert.last_window_end
                state = alert.observe(breached=True, window_end=c.window_end, for_windows=rule.for_windows,
                                      keep_firing_for=rule.keep_firing_for)
                alert.breach_streak, alert.last_window_end = streak, last
            else:
                continue
            if verdict is not None:
                alert.metric, alert.value, alert.n = c.metric, c.value, c.n
                alert.expected = [c.low, c.high]
                alert.summary = alert_summary(alert=alert, rule=rule)
            if state:
                out.append(Transition(alert, state, c.window_end, notify=c.window_end >= horizon))
        if (alert is not None and alert.state == State.FIRING and not alert.announced
                and alert.last_window_end and alert.last_window_end >= horizon
                and not any(t.alert is alert and t.state == State.FIRING and t.notify for t in out)):
            first = (AlertWindow.objects.filter(alert=alert, breached=True, window_end__gte=horizon)
                     .order_by("window_start").values_list("window_end", flat=True).first())
            alert.started_at = first or alert.started_at
            out.append(Transition(alert, State.FIRING, alert.last_window_end, notify=True,
                                  note="fired during a backfill and still firing inside the lookback"))
        if alert is not None and alert.state == State.FIRING and alert.snoozed_value is not None:
            sign, _ = comparison(alert, rule)
            if alert.worse_than_snooze(alert.value, sign):
                alert.snoozed_value = None
                out.append(Transition(alert, "worse", alert.last_window_end, notify=True))
        if alert is not None:
            alert.save()
            for t in out:
                if t.alert is alert:
                    AlertEvent.objects.create(
                        alert=alert, state=t.state, window_end=t.window_end, value=alert.value,
                        note=t.note or ("" if t.notify else "backfill: older than the rule's lookback, not announced"),
                    )
    return out
