"""Evaluation: feed each rule the version's new windows, move alert states, write the outbox."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import connection, transaction

from core.locks import LockSpace
from monitoring.models import AnalysisResult, MLModel, ModelVersion

from .. import clock
from ..conditions import Condition, conditions_read_many, rule_breached
from ..models import FEATURE_KINDS, Alert, AlertEvent, AlertRule, AlertWindow, EvaluationCursor, State
from .headline import alert_summary, comparison
from .notify import incidents_enqueue

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


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


def _floor(t: datetime, granularity: str) -> datetime:
    t = t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return t.replace(hour=0) if granularity == "day" else t


@cache
def _versions_sql() -> str:
    columns = [f"v.{connection.ops.quote_name(f.column)}" for f in ModelVersion._meta.concrete_fields]
    columns += [f"m.{connection.ops.quote_name(f.column)}" for f in MLModel._meta.concrete_fields]
    # pg_advisory_xact_lock is volatile, so it runs after the sort: locks are taken in id order,
    # as every evaluation takes them, and two batches sharing versions cannot deadlock.
    return (f"SELECT {', '.join(columns)}, pg_advisory_xact_lock(%s, v.id::integer) FROM {ModelVersion._meta.db_table} v"
            f" JOIN {MLModel._meta.db_table} m ON m.id = v.model_id WHERE v.id = ANY(%s) ORDER BY v.id")


@cache
def _columns(model) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)


def _instance(model, values):
    fields = model._meta.concrete_fields
    converted = []
    for f, value in zip(fields, values, strict=True):
        for convert in f.get_db_converters(connection):
            value = convert(value, f, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _instances(model, sql: str, params: list, extra: tuple[str, ...] = ()) -> list:
    """Instances of ``model`` from ``sql``, whose columns are the model's concrete fields in order,
    then ``extra`` (set as attributes): what objects.raw() does, without its per-query column
    mapping, which cost more than the query for the few rows an evaluation reads."""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    n = len(model._meta.concrete_fields)
    out = []
    for row in rows:
        obj = _instance(model, row[:n])
        for name, value in zip(extra, row[n:], strict=True):
            setattr(obj, name, value)
        out.append(obj)
    return out


def _versions_locked(version_ids: list[int]) -> dict[int, ModelVersion]:
    """The versions with their models, taking their evaluation locks in the same statement: one
    round trip where the ORM's get() and the lock were two per version."""
    with connection.cursor() as cur:
        cur.execute(_versions_sql(), [int(LockSpace.ALERT_EVALUATION), version_ids])
        rows = cur.fetchall()
    n = len(ModelVersion._meta.concrete_fields)
    out = {}
    for row in rows:
        version = _instance(ModelVersion, row[:n])
        version.model = _instance(MLModel, row[n:-1])
        out[version.pk] = version
    return out


RULES_SQL = """
SELECT {columns}, v.id AS for_version, c.id AS cursor_id, c.window_end AS cursor_end,
       c.analysed_through AS cursor_analysed, c.read_until AS cursor_read,
       (SELECT max(computed_at) FROM monitoring_analysis_result WHERE version_id = v.id) AS analysed
  FROM alerts_alertrule r
  JOIN monitoring_model_version v ON v.model_id = r.model_id AND v.id = ANY(%s)
  LEFT JOIN alerts_evaluationcursor c ON c.rule_id = r.id AND c.version_id = v.id
 WHERE r.enabled
 ORDER BY v.id, r.id
"""
RULES_EXTRA = ("for_version", "cursor_id", "cursor_end", "cursor_analysed", "cursor_read", "analysed")


@cache
def _rules_sql() -> str:
    return RULES_SQL.format(columns=", ".join(f"r.{c.strip()}" for c in _columns(AlertRule).split(",")))


def _rules_with_cursors(version_ids: list[int]) -> dict[int, list[AlertRule]]:
    """The enabled rules of each version's model, each with its cursor for the version
    (``cursor_*``) and the version's newest analysis (``analysed``), by version: one query, in SQL
    because it runs for every version on every beat and the ORM's compilation of it cost more than
    the query."""
    out: dict[int, list[AlertRule]] = {}
    for rule in _instances(AlertRule, _rules_sql(), [version_ids], RULES_EXTRA):
        out.setdefault(rule.for_version, []).append(rule)
    return out


def _nothing_new(rules: list[AlertRule], now: datetime) -> bool:
    """No result (re)computed since every rule's last read, and no window of the rules'
    granularities closed since then (a closed empty window is a no-data observation)."""
    if any(r.cursor_analysed is None or r.cursor_read is None for r in rules):
        return False
    analysed = rules[0].analysed
    if analysed is None or analysed > min(r.cursor_analysed for r in rules):
        return False
    read = min(r.cursor_read for r in rules)
    return all(_floor(read, g) == _floor(now, g) for g in {r.granularity for r in rules})


def alerts_evaluate(*, version_id: int, now: datetime | None = None, conditions: list[Condition] | None = None,
                   after_analysis: bool = False) -> list[Transition]:
    """Evaluate every enabled rule of the version's model on its windows not yet consumed.

    ``conditions`` (tests, benchmarks) replaces the read of the health conditions.
    ``after_analysis``: called right after an analysis of the version committed (the pipeline's
    task), so something is new and the idle check is skipped. Returns the transitions; the
    messages they call for are in the outbox when this returns. A version with no analysis since
    its last evaluation and no window closed since costs one query."""
    moved = alerts_evaluate_many(version_ids=[version_id], now=now, after_analysis=after_analysis,
                                 conditions=None if conditions is None else {version_id: conditions},
                                 missing_ok=False)
    return moved.get(version_id, [])


def alerts_evaluate_many(*, version_ids: list[int], now: datetime | None = None,
                         conditions: dict[int, list[Condition]] | None = None, after_analysis: bool = False,
                         missing_ok: bool = True) -> dict[int, list[Transition]]:
    """alerts_evaluate for several versions in one transaction, with one round trip per step for
    them all (locks, rules, analysis marks, stored windows, alerts, writes) instead of one per
    version: what the pipeline runs for the versions one analysis task analysed. A version's
    results are the same whether it is evaluated alone or with others."""
    now = now or clock.now()
    ids = sorted(set(version_ids))
    if conditions is None and not after_analysis:
        idle = _rules_with_cursors(ids)
        ids = [vid for vid in ids if idle.get(vid) and not _nothing_new(idle[vid], now)]
        if not ids:
            return {}
    out: dict[int, list[Transition]] = {}
    with transaction.atomic():
        # One evaluation of a version at a time: cursors and streaks are read-modify-write. The
        # locks are taken by the versions' read (one round trip); the rules below are a later
        # statement, so they see whatever the evaluations that held the locks before committed.
        versions = _versions_locked(ids)
        if not missing_ok and len(versions) < len(ids):
            raise ModelVersion.DoesNotExist(f"ModelVersion {sorted(set(ids) - set(versions))} does not exist.")
        rules_by = _rules_with_cursors(sorted(versions))
        ids = [vid for vid in sorted(versions) if rules_by.get(vid)]
        if not ids:
            return {}
        cursors_by = {vid: {r.id: EvaluationCursor(pk=r.cursor_id, rule_id=r.id, version_id=vid, window_end=r.cursor_end,
                                                   analysed_through=r.cursor_analysed, read_until=r.cursor_read)
                            for r in rules_by[vid] if r.cursor_id is not None} for vid in ids}
        if conditions is not None:
            found_by, analysed_by = {vid: conditions.get(vid, []) for vid in ids}, {}
        else:
            found_by, analysed_by = _read_many([versions[vid] for vid in ids], rules_by, cursors_by, now)
        alerts_by: dict[int, dict[str, Alert]] = {vid: {} for vid in ids}
        for alert in _instances(Alert, _alerts_sql(), [ids, [r.id for vid in ids for r in rules_by[vid]]]):
            alerts_by[alert.version_id][alert.fingerprint] = alert
        windows: dict[tuple[int, datetime], AlertWindow] = {}
        moved: dict[int, tuple[Alert, list]] = {}
        changed: list[EvaluationCursor] = []
        created: list[EvaluationCursor] = []
        for vid in ids:
            version, cursors, analysed = versions[vid], cursors_by[vid], analysed_by.get(vid)
            # Each rule sees only its kind's conditions: a window brings a hundred, a rule wants a few.
            by_kind: dict[str, list[Condition]] = {}
            for c in found_by[vid]:
                by_kind.setdefault(c.kind, []).append(c)
            transitions: list[Transition] = []
            for rule in rules_by[vid]:
                cursor = cursors.get(rule.id) or EvaluationCursor(rule=rule, version=version, window_end=EPOCH)
                transitions += _rule_evaluate(rule, version, by_kind.get(rule.kind, []), cursor, alerts_by[vid], now,
                                              windows, moved)
                if analysed is not None:
                    cursor.analysed_through, cursor.read_until = analysed, now
                if cursor.pk is None:
                    if cursor.window_end > EPOCH or analysed is not None:
                        created.append(cursor)
                else:
                    changed.append(cursor)
            out[vid] = transitions
        # The changed alerts, the judged windows and the cursors of every version: one statement.
        _state_write(list(moved.values()), windows, changed)
        if created:
            EvaluationCursor.objects.bulk_create(created)
        for vid in ids:
            if out[vid]:
                incidents_enqueue(model=versions[vid].model, transitions=out[vid], now=now)
    return out


# The ORM's compilation of this filter cost as much as running it, on every evaluation.
ALERTS_SQL = "SELECT {columns} FROM alerts_alert WHERE version_id = ANY(%s) AND rule_id = ANY(%s)"


@cache
def _alerts_sql() -> str:
    return ALERTS_SQL.format(columns=_columns(Alert))

CURSORS_UPDATE = """
UPDATE alerts_evaluationcursor AS c
   SET window_end = v.window_end, analysed_through = v.analysed_through, read_until = v.read_until
  FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[])
       AS v(id, window_end, analysed_through, read_until)
 WHERE c.id = v.id
"""

WINDOWS_UPSERT = """
INSERT INTO alerts_alertwindow (alert_id, window_start, window_end, value, low, high, breached, n)
SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::float8[], %s::float8[],
                     %s::float8[], %s::boolean[], %s::integer[])
    ON CONFLICT (alert_id, window_start) DO UPDATE
   SET window_end = EXCLUDED.window_end, value = EXCLUDED.value, low = EXCLUDED.low, high = EXCLUDED.high,
       breached = EXCLUDED.breached, n = EXCLUDED.n
"""


@cache
def _alerts_update_sql(columns: tuple[str, ...], rows: int) -> str:
    fields = [Alert._meta.get_field(name) for name in columns]
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s::bigint", *(f"%s::{f.db_type(connection)}" for f in fields)]) + ")"
    return (f"UPDATE {Alert._meta.db_table} AS a SET {', '.join(f'{qn(f.column)} = v.{qn(f.column)}' for f in fields)}"
            f" FROM (VALUES {', '.join([row] * rows)}) AS v(id, {', '.join(qn(f.column) for f in fields)})"
            f" WHERE a.id = v.id")


def _alerts_update(moved: list[tuple[Alert, list]]) -> tuple[str, list]:
    """The UPDATE of the alerts this evaluation changed (each with its snapshot from before): one
    UPDATE ... FROM (VALUES ...) of the columns that changed, and its parameters. A save each cost
    more than the rest of a steady-state evaluation's writes, and Django's bulk_update (a CASE per
    column over thirty columns) more than the saves."""
    fields = Alert._meta.concrete_fields
    updated = Alert._meta.get_field("updated_at")
    changed = {f for alert, before in moved for f, old, new in zip(fields, before, _snapshot(alert), strict=True)
               if old != new and not f.primary_key}
    columns = tuple(f.name for f in fields if f in changed or f is updated)
    params: list = []
    for alert, _ in moved:
        params.append(alert.pk)
        # pre_save as save() calls it (updated_at is auto_now).
        params += [f.get_db_prep_save(f.pre_save(alert, False), connection)
                   for f in (Alert._meta.get_field(name) for name in columns)]
    return _alerts_update_sql(columns, len(moved)), params


def _windows_upsert(windows: dict[tuple[int, datetime], AlertWindow]) -> tuple[str, list]:
    rows = list(windows.values())
    return WINDOWS_UPSERT, [[w.alert_id for w in rows], [w.window_start for w in rows], [w.window_end for w in rows],
                            [w.value for w in rows], [w.low for w in rows], [w.high for w in rows],
                            [w.breached for w in rows], [w.n for w in rows]]


def _state_write(moved: list[tuple[Alert, list]], windows: dict[tuple[int, datetime], AlertWindow],
                 cursors: list[EvaluationCursor]) -> None:
    """The evaluation's changed alerts, judged windows and cursors in one statement (data-modifying
    CTEs, each on its own table): a round trip each was a third of a steady-state evaluation's
    statements."""
    parts = []
    if moved:
        parts.append(_alerts_update(moved))
    if windows:
        parts.append(_windows_upsert(windows))
        windows.clear()
    if cursors:
        parts.append((CURSORS_UPDATE, [[c.pk for c in cursors], [c.window_end for c in cursors],
                                       [c.analysed_through for c in cursors], [c.read_until for c in cursors]]))
    if not parts:
        return
    *first, (last_sql, last_params) = parts
    sql = ("WITH " + ", ".join(f"w{i} AS ({q.strip()})" for i, (q, _) in enumerate(first)) + " " if first else "")
    params = [p for _, ps in first for p in ps] + last_params
    with connection.cursor() as cur:
        cur.execute(sql + last_sql.strip(), params)


MARKS_SQL = """
SELECT p.vid, p.g,
       (SELECT max(computed_at) FROM monitoring_analysis_result WHERE version_id = p.vid),
       (SELECT min(window_start) FROM monitoring_analysis_result WHERE version_id = p.vid AND granularity = p.g),
       (SELECT min(window_start) FROM monitoring_analysis_result
         WHERE version_id = p.vid AND granularity = p.g AND segment = '' AND window_start >= p.lo
           AND window_start < p.since AND computed_at > p.seen)
  FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[])
       AS p(vid, g, lo, since, seen)
"""


def _read_many(versions, rules_by, cursors_by, now) -> tuple[dict[int, list[Condition]], dict[int, datetime]]:
    """The conditions each version's rules still need, and the newest analysis time they were read
    at: one query for the marks below and one read of the stored windows, for every version.

    A rule's cursor stops at its oldest window not judged yet (labels not matured), so reading
    from the cursors alone would re-judge the same old windows every cycle. Those windows are
    read again only when re-analysed since the last read (new labels recompute them), as are
    windows starting after the last read's ``now`` (new, or missing: no data)."""
    plans, params = {}, ([], [], [], [], [])
    for version in versions:
        rules, cursors = rules_by[version.pk], cursors_by[version.pk]
        marks = [cursors.get(r.id) for r in rules]
        # A rule with no cursor yet (new rule, first evaluation) reads everything from the first window.
        complete = all(c is not None and c.analysed_through and c.read_until for c in marks)
        granularities = sorted({r.granularity for r in rules})
        starts = {g: min(cursors[r.id].window_end if r.id in cursors else EPOCH for r in rules if r.granularity == g)
                  for g in granularities}
        # A result's computed_at is later than every one stored before it (the analysis sets it from the
        # database under the version's lock), so a window re-analysed since the read that saw ``seen``
        # has a later one: an exact test, whatever the workers' clocks.
        seen = min(c.analysed_through for c in marks) if complete else None
        # The window that was open at the last read onwards (aligned: a start inside a window would
        # list windows shifted from the real ones as missing).
        since = {g: _floor(min(c.read_until for c in marks), g) for g in granularities} if complete else {}
        plans[version.pk] = (granularities, complete, starts, since)
        for g in granularities:
            for column, value in zip(params, (version.pk, g, starts[g], since.get(g), seen), strict=True):
                column.append(value)
    with connection.cursor() as cur:
        cur.execute(MARKS_SQL, list(params))
        marks_read = {(vid, g): (analysed, first, changed) for vid, g, analysed, first, changed in cur.fetchall()}
    requests: dict[str, list[tuple]] = {}
    analysed_by: dict[int, datetime] = {}
    for version in versions:
        granularities, complete, starts, since = plans[version.pk]
        analysed = marks_read[(version.pk, granularities[0])][0]
        if analysed is None:
            continue
        analysed_by[version.pk] = analysed
        for g in granularities:
            # A rule that never consumed a window starts at the version's first analysed window of its
            # granularity (not at 1970: the health selector lists missing windows, and there would be
            # half a million; nor at its first day's midnight: the hours before its first prediction held none).
            _, first, changed = marks_read[(version.pk, g)]
            if first is None:
                continue
            start = max(starts[g], first)
            if complete:
                start = max(start, min(changed or since[g], since[g]))
            for segment in ["", *_segments(version, [r for r in rules_by[version.pk] if r.granularity == g])]:
                requests.setdefault(segment, []).append((version, g, start, now + STEP[g]))
    found_by: dict[int, list[Condition]] = {v.pk: [] for v in versions}
    for segment, wanted in requests.items():
        for (version, *_), found in zip(wanted, conditions_read_many(requests=wanted, now=now, segment=segment),
                                        strict=True):
            found_by[version.pk] += found
    return found_by, analysed_by


def _segments(version, rules) -> list[str]:
    """The segments these rules judge besides all rows (none by default: no query)."""
    if not any(r.segments for r in rules):
        return []
    tracked = set(AnalysisResult.objects.filter(version=version).exclude(segment="")
                  .values_list("segment", flat=True).distinct())
    return sorted(s for s in tracked if any(r.watches_segment(s) for r in rules))


def _rank(rule, c: Condition) -> int:
    verdict = rule_breached(rule.threshold, c)
    return 2 if verdict else 1 if verdict is not None else 0


def _snapshot(alert: Alert) -> list:
    # Only the JSON fields (lists, dicts) are copied: the others hold immutable values, and a
    # deepcopy of every field of every alert fed showed in the profile.
    return [copy.deepcopy(v) if isinstance(v, list | dict) else v
            for v in (getattr(alert, f.attname) for f in Alert._meta.concrete_fields)]


def _windows_write(windows: dict[tuple[int, datetime], AlertWindow]) -> None:
    """The judged windows so far, now: a read in the same evaluation must see them."""
    if windows:
        sql, params = _windows_upsert(windows)
        windows.clear()
        with connection.cursor() as cur:
            cur.execute(sql, params)


def _rule_evaluate(rule, version, found, cursor, alerts, now, windows, changed: dict[int, tuple[Alert, list]]
                   ) -> list[Transition]:
    per_window: dict[tuple[str, datetime], Condition] = {}
    for c in found:
        if c.kind != rule.kind or c.window_end <= cursor.window_end or c.window_end - c.window_start != STEP[rule.granularity]:
            continue
        if rule.kind in FEATURE_KINDS and rule.features and c.feature not in rule.features:
            continue
        if not rule.watches_segment(c.segment):
            continue
        key = (c.segment, c.feature if rule.kind in FEATURE_KINDS else "", c.window_start)
        # A model-level kind judged on several metrics (performance: accuracy and ROC AUC) is one
        # alert: the window counts when any judged metric breaches; that metric is the one shown.
        held = per_window.get(key)
        if held is None or _rank(rule, c) > _rank(rule, held):
            per_window[key] = c
    series: dict[tuple[str, str], list[Condition]] = {}
    for (segment, feature, _), c in per_window.items():
        series.setdefault((segment, feature), []).append(c)
    out: list[Transition] = []
    horizon = now - timedelta(hours=rule.lookback_hours)
    for (segment, feature), conds in series.items():
        conds.sort(key=lambda c: c.window_start)
        features = [feature] if feature else []
        key = fingerprint(rule_id=rule.id, version_id=version.id, segment=segment, features=features)
        alert = alerts.get(key)
        before = _snapshot(alert) if alert is not None else None
        for c in conds:
            closed = c.window_end <= now
            verdict = rule_breached(rule.threshold, c)
            if alert is None:
                if not verdict:
                    if closed and verdict is not None:
                        cursor.window_end = max(cursor.window_end, c.window_end)
                    continue
                alert = alerts[key] = Alert.objects.create(
                    rule=rule, model_id=version.model_id, version=version, features=features, segment=segment,
                    fingerprint=key, kind=rule.kind, severity=rule.severity,
                )
                before = _snapshot(alert)
            if verdict is not None:
                # Written with the evaluation's other windows; a window judged twice keeps the last.
                windows[(alert.pk, c.window_start)] = AlertWindow(
                    alert=alert, window_start=c.window_start, window_end=c.window_end, value=c.value, low=c.low,
                    high=c.high, breached=verdict, n=c.n)
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
            _windows_write(windows)  # the read below must see this evaluation's windows
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
            # An alert fed only its open window (most of them, most cycles) is unchanged: not rewritten.
            if _snapshot(alert) != before:
                changed[alert.pk] = (alert, before)  # written with the evaluation's other changed alerts
            for t in out:
                if t.alert is alert:
                    AlertEvent.objects.create(
                        alert=alert, state=t.state, window_end=t.window_end, value=alert.value,
                        note=t.note or ("" if t.notify else "backfill: older than the rule's lookback, not announced"),
                    )
    return out
