"""Reads of reference profiles: the decoded profile (cached per process) and the fold layout."""

from __future__ import annotations

import threading

import numpy as np
from django.db import connection

from monitoring.engine.profile import Profile, profile_decode
from monitoring.engine.sketch_build import FeatureLayout, Layout
from monitoring.models import ModelVersion, ReferenceProfile

# The one cache of decoded profiles, by version: (profile pk, generation) -> Profile. A
# profile changes only when it is rebuilt (which bumps its generation), and decoding it
# (edges, counts, the reference sample, the PCA model) costs ~30 ms, against one small query.
_CACHE: dict[int, tuple[tuple[int, int], Profile]] = {}
_CACHE_LOCK = threading.Lock()


def profile_load(*, version: ModelVersion) -> Profile | None:
    """The version's current profile, or None while it has no reference data."""
    head = ReferenceProfile.objects.filter(version=version).values_list("pk", "generation").first()
    if head is None:
        return None
    with _CACHE_LOCK:
        cached = _CACHE.get(version.pk)
    if cached is not None and cached[0] == head:
        return cached[1]
    row = ReferenceProfile.objects.filter(pk=head[0]).first()
    if row is None:
        return None
    profile = profile_from_row(row)
    with _CACHE_LOCK:
        _CACHE[version.pk] = ((row.pk, row.generation), profile)
    return profile


def profile_from_row(row: ReferenceProfile) -> Profile:
    return profile_decode(pk=row.pk, generation=row.generation, data=row.data, spec=row.spec)


def _declared(feat: dict) -> FeatureLayout:
    kind = feat.get("type", "numeric")
    return FeatureLayout(
        name=feat["name"],
        kind=kind,
        edges=np.array([0.5]) if kind == "boolean" else None,
        categories=None,
        lo=feat.get("min"),
        hi=feat.get("max"),
    )


def layout_for_version(*, version: ModelVersion, profile: Profile | None) -> Layout:
    """The profile's layout, or (before reference data exists) an unbinned one from the schema."""
    if profile is not None:
        return profile.layout
    threshold = version.threshold if version.threshold is not None else 0.5
    return Layout(
        task=version.model.task,
        threshold=threshold,
        features=[_declared(f) for f in version.features],
        classes=[str(c) for c in (version.classes or [])],
    )


# Versions whose sketches do not all match their current profile: a re-fold for a newer
# profile that has not finished (``sketches_generation`` behind ``generation``), partials
# binned with an older profile (an ingest that loaded it just before the switch), or rows
# folded unbinned although a profile exists. Profiles are few, and partials are drained by
# every compaction, so this stays cheap enough for the beat to run every minute.
STALE_SQL = """
SELECT rp.version_id FROM monitoring_reference_profile rp
 WHERE rp.sketches_generation IS DISTINCT FROM rp.generation {and_version}
UNION
SELECT p.version_id FROM monitoring_sketch_partial p
  JOIN monitoring_reference_profile rp ON rp.version_id = p.version_id
 WHERE ((p.binned_with IS NOT NULL AND p.binned_with <> rp.generation) OR NOT p.binned) {and_version}
"""


def versions_stale(*, version_id: int | None = None) -> list[int]:
    """Versions (or just ``version_id``) whose sketches need re-folding for their current profile."""
    sql = STALE_SQL.format(and_version="AND rp.version_id = %(v)s" if version_id is not None else "")
    with connection.cursor() as cur:
        cur.execute(sql, {"v": version_id})
        return sorted(r[0] for r in cur.fetchall())
