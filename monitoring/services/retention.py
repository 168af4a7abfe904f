"""Retention of raw prediction rows, per model (``MLModel.raw_retention_days``).

A week partition whose rows have all expired (its end is past the retention of every model
with rows in it) is detached and dropped whole. Where one partition holds a model past its
retention next to a model that still keeps it, that model's expired rows are deleted in
batches (the fallback; same for the DEFAULT partition's stragglers). Only raw rows go:
sketches, rollups, analysis results, stored explanations, labels, alerts and audit records
are other tables and stay. Each model records the boundary reached (``raw_purged_before``),
which pages and ``--rebuild`` read to say what raw-row features are gone for a range.

Idempotent: a second run finds nothing left to do. ``dry_run`` only plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from monitoring.models import MLModel
from monitoring.services.partitions import (
    DEFAULT,
    is_partitioned,
    partition_drop,
    partition_model_ids,
    partitions_list,
)


@dataclass
class RetentionStep:
    """One thing retention removes: a whole partition (``drop``) or one model's expired rows
    in one partition (``delete``: rows timestamped before ``before``)."""

    kind: str
    table: str
    rows: int
    bytes: int = 0
    start: datetime | None = None
    end: datetime | None = None
    before: datetime | None = None
    model_ids: list[int] = field(default_factory=list)
    done: bool = False


def retention_plan(*, now: datetime | None = None, model: MLModel | None = None) -> list[RetentionStep]:
    """What retention would remove now (nothing changes). ``model``: only that model's rows
    (a partition is then dropped only when that model is the only one in it)."""
    if not is_partitioned():
        return []
    now = now or datetime.now(UTC)
    models = list(MLModel.objects.only("pk", "raw_retention_days"))
    if not models:
        return []
    cutoff = {m.pk: now - timedelta(days=m.raw_retention_days) for m in models}
    oldest_cutoff = min(cutoff.values())  # the model keeping raw rows the longest
    steps: list[RetentionStep] = []
    for part in partitions_list():
        present = partition_model_ids(table=part["name"])
        if model is not None and model.pk not in present:
            continue
        # Rows of a model deleted meanwhile (its rows go with it) count as expired.
        if present and all(part["end"] <= cutoff.get(m, now) for m in present) and (
            model is None or present == [model.pk]
        ):
            steps.append(RetentionStep(kind="drop", table=part["name"], rows=_count(part["name"]),
                                       bytes=part["bytes"], start=part["start"], end=part["end"], model_ids=present))
        elif not present and model is None and part["end"] <= oldest_cutoff:
            steps.append(RetentionStep(kind="drop", table=part["name"], rows=0, bytes=part["bytes"],
                                       start=part["start"], end=part["end"]))
        else:
            # Only a model whose whole week has expired while another model keeps the partition:
            # a week partly past its only models' retention is dropped whole within a week.
            for model_id in present:
                if model_id in cutoff and (model is None or model_id == model.pk) and cutoff[model_id] >= part["end"]:
                    steps += _delete_step(part["name"], model_id, part["end"])
    for model_id, before in cutoff.items():
        if model is None or model_id == model.pk:
            steps += _delete_step(DEFAULT, model_id, before)
    return steps


def retention_apply(*, now: datetime | None = None, model: MLModel | None = None,
                    dry_run: bool = False) -> list[RetentionStep]:
    """Plan (see retention_plan) and, unless ``dry_run``, carry out: drop partitions, delete
    the fallback rows in batches, and move each affected model's ``raw_purged_before``
    forward. Returns the steps, ``done`` set on those carried out."""
    now = now or datetime.now(UTC)
    steps = retention_plan(now=now, model=model)
    if dry_run:
        return steps
    cutoff = {m.pk: now - timedelta(days=m.raw_retention_days) for m in MLModel.objects.only("pk", "raw_retention_days")}
    for step in steps:
        if step.kind == "drop":
            expected = set(step.model_ids)

            def still_droppable(table: str, expected: set = expected, end: datetime = step.end) -> bool:
                # Rechecked under the partition's lock: a model whose row arrived since the plan
                # (and whose retention is longer) keeps the partition until a later run.
                present = set(partition_model_ids(table=table))
                return present <= expected or all(end <= cutoff.get(m, now) for m in present)

            step.done = partition_drop(name=step.table, still_droppable=still_droppable)
            if step.done:
                for model_id in step.model_ids:
                    _mark_purged(model_id, step.end)
        else:
            _delete_batched(step.table, step.model_ids[0], step.before)
            _mark_purged(step.model_ids[0], step.before)
            step.done = True
    return steps


def _count(table: str, model_id: int | None = None, before: datetime | None = None) -> int:
    with connection.cursor() as cur:
        if model_id is None:
            cur.execute(f'SELECT count(*) FROM "{table}"')
        else:
            cur.execute(f'SELECT count(*) FROM "{table}" WHERE model_id = %s AND "timestamp" < %s', [model_id, before])
        return int(cur.fetchone()[0])


def _delete_step(table: str, model_id: int, before: datetime) -> list[RetentionStep]:
    rows = _count(table, model_id, before)
    return [RetentionStep(kind="delete", table=table, rows=rows, before=before, model_ids=[model_id])] if rows else []


def _delete_batched(table: str, model_id: int, before: datetime) -> int:
    """Delete one model's rows before ``before`` from one partition, a batch per transaction
    (short locks, bounded WAL per commit). Returns the rows deleted."""
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f'DELETE FROM "{table}" WHERE ctid = ANY(ARRAY(SELECT ctid FROM "{table}" '
                f'WHERE model_id = %s AND "timestamp" < %s LIMIT %s))',
                [model_id, before, settings.VIGIL_RETENTION_DELETE_BATCH],
            )
            deleted += cur.rowcount
            if cur.rowcount < settings.VIGIL_RETENTION_DELETE_BATCH:
                return deleted


def _mark_purged(model_id: int, before: datetime) -> None:
    # Only forward: a later run never claims rows are back.
    MLModel.objects.filter(pk=model_id).filter(Q(raw_purged_before__isnull=True) | Q(raw_purged_before__lt=before)
                                               ).update(raw_purged_before=before)
