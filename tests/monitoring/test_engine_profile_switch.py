"""Switching a version to a new reference profile: a re-fold cut short never mixes bins, and resumes.

The old code committed the new profile, then re-folded the sketches in another transaction:
a worker killed in between left every window binned with the old edges, read against the
new ones (drift silently wrong), and nothing asked for the re-fold again.
"""

import time
from datetime import timedelta

import numpy as np
import pytest

from config.celery import app
from monitoring.engine.evaluate import drift_report
from monitoring.engine.stats.binning import bin_counts
from monitoring.models import AnalysisResult, ReferenceProfile, ReferenceRow, SketchPartial, WindowSketch
from monitoring.selectors.metrics import sketch_range_get
from monitoring.selectors.profile import profile_load
from monitoring.services import compaction
from monitoring.services.analysis import version_analyse
from monitoring.services.profile import profile_build
from monitoring.tasks import compact_sketches_task

from .engine_factories import T0, batch, draw, make_version, store_predictions, store_reference

pytestmark = pytest.mark.django_db
DAY = (T0, T0 + timedelta(days=1))


@pytest.fixture
def eager():
    """Tasks enqueued by the beat run at once, in this test's transaction."""
    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


def _fold(version, rng, *, start=T0, hours=24, n=1200, shift=0.0) -> dict:
    d = draw(n, rng, shift=shift)
    store_predictions(version, batch(d, start=start, hours=hours))
    return d


def _new_reference(version, seed: int) -> None:
    """Replace the version's reference rows with income shifted by 2 sd (new quantile edges)."""
    d = draw(3000, np.random.default_rng(seed), shift=2.0)
    ReferenceRow.objects.filter(version=version).delete()
    ReferenceRow.objects.bulk_create(
        ReferenceRow(
            version=version,
            features={"income": float(d["income"][i]), "age": float(d["age"][i]), "region": str(d["region"][i]),
                      "has_car": bool(d["has_car"][i])},
            score=float(d["score"][i]),
            label=int(d["label"][i]),
        )
        for i in range(3000)
    )


def _read(version):
    return sketch_range_get(version=version, start=DAY[0], end=DAY[1])


def _assert_binned_with_current_edges(version, incomes: np.ndarray) -> None:
    """The range read holds exactly ``incomes`` counted on the current profile's edges."""
    edges = profile_load(version=version).layout.features[0].edges
    read = _read(version).sketch
    assert read.count("rows") == len(incomes)
    np.testing.assert_array_equal(read.arrays["b:income"], bin_counts(incomes, edges))


def test_a_rebuild_cut_short_is_never_read_mixed_and_the_beat_resumes_it(eager):
    version = make_version()
    store_reference(version)
    before = _fold(version, np.random.default_rng(5), shift=2.0)
    compaction.sketches_compact_all()
    assert WindowSketch.objects.filter(version=version).exists()
    old_edges = profile_load(version=version).layout.features[0].edges

    # The worker commits the new profile and is killed before the re-fold commits (the
    # re-fold is one transaction: killed half-way it leaves exactly this state).
    _new_reference(version, seed=6)
    profile_build(version=version)
    new_edges = profile_load(version=version).layout.features[0].edges
    assert not np.array_equal(old_edges, new_edges)

    # Readers never add counts binned with the old edges to the new ones: windows of the
    # old profile are left out, rows that arrive now are read on the new edges.
    read = _read(version).sketch
    assert "b:income" not in read.arrays or np.array_equal(
        read.arrays["b:income"], bin_counts(before["income"], new_edges)
    ), "the read mixes bins of the old profile with the new edges"
    after = _fold(version, np.random.default_rng(7), start=T0 + timedelta(hours=12), hours=6, n=300, shift=2.0)
    compaction.sketches_compact_all()
    assert SketchPartial.objects.filter(version=version).exists()  # not merged into old-edge windows
    _assert_binned_with_current_edges(version, after["income"])
    assert version_analyse(version_id=version.pk, force=True) == 0  # nothing of the new profile compacted yet

    # The beat notices the unfinished switch and asks for the re-fold again; asking twice is harmless.
    compact_sketches_task()
    compact_sketches_task()
    assert not SketchPartial.objects.filter(version=version).exists()
    _assert_binned_with_current_edges(version, np.concatenate([before["income"], after["income"]]))
    profile = profile_load(version=version)
    assert set(WindowSketch.objects.filter(version=version).values_list("binned_with", flat=True)) == {
        profile.generation
    }
    # The analysis ran on the re-folded windows: drift against the new (shifted) reference.
    day = AnalysisResult.objects.get(version=version, granularity="day", window_start=T0, segment="")
    direct = drift_report(profile=profile, sketch=_read(version).sketch, model_settings={}, previous=None)
    income = next(f for f in day.payload["drift"]["features"] if f["name"] == "income")
    assert income["drifted"] is next(f for f in direct["features"] if f["name"] == "income")["drifted"]
    assert income["psi"] == pytest.approx(next(f for f in direct["features"] if f["name"] == "income")["psi"])


def test_partials_folded_with_the_previous_profile_wait_for_a_re_fold(eager, monkeypatch):
    version = make_version()
    store_reference(version)
    old = profile_load(version=version)
    first = _fold(version, np.random.default_rng(8))
    _new_reference(version, seed=9)
    compact_sketches_task()  # nothing stale yet: compacts
    from monitoring.services.rebuild import profile_rebuild

    profile_rebuild(version=version)  # a complete switch
    # An ingest that loaded the previous profile just before the switch commits after it.
    from monitoring.services import sketching

    with monkeypatch.context() as patch:
        patch.setattr(sketching, "profile_load", lambda version: old)
        late = _fold(version, np.random.default_rng(10), start=T0 + timedelta(hours=3), hours=2, n=200)
    stale = SketchPartial.objects.filter(version=version).exclude(binned_with=profile_load(version=version).generation)
    assert stale.exists()
    compaction.sketches_compact_all()
    assert stale.exists()  # never merged into windows of the new edges
    _assert_binned_with_current_edges(version, first["income"])  # and never read
    compact_sketches_task()  # the beat re-folds them from their raw rows
    assert not SketchPartial.objects.filter(version=version).exists()
    _assert_binned_with_current_edges(version, np.concatenate([first["income"], late["income"]]))


def _wait(check, seconds=90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_resumes_the_re_fold_when_the_beat_runs():
    from celery.contrib.testing.worker import start_worker

    version = make_version()
    store_reference(version)
    before = _fold(version, np.random.default_rng(11), shift=2.0)
    compaction.sketches_compact_all()
    _new_reference(version, seed=12)
    profile_build(version=version)  # committed; the worker that was to re-fold died
    generation = ReferenceProfile.objects.get(version=version).generation
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        compact_sketches_task.delay()  # what beat runs every minute
        assert _wait(lambda: ReferenceProfile.objects.get(version=version).sketches_generation == generation)
        compact_sketches_task.delay()  # the next minute: the re-folded windows are analysed
        assert _wait(lambda: AnalysisResult.objects.filter(version=version, granularity="day").exists())
    _assert_binned_with_current_edges(version, before["income"])
