"""Two real ``celery beat`` processes on one database: only the holder of the leader lock sends;
killed with SIGKILL, the standby takes over, and the restarted one stands by (core.beat)."""

import time

import pytest
from django.db import connection

from .processes import Broker, beat, process_env, wait_for

SENT = "Sending due task monitoring-compact-analyse"


def sends(process) -> int:
    return process.output().count(SENT)


def lock_holders() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'vigil-beat-leader'"
        )
        return cur.fetchone()[0]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_two_beats_only_one_sends_and_the_standby_takes_over_when_it_dies(tmp_path):
    broker = Broker(tmp_path / "redis")
    env = process_env(broker, VIGIL_COMPACT_SECONDS="1", VIGIL_BEAT_STANDBY_SECONDS="0.5")
    beats = [beat("beat-a", env, tmp_path), beat("beat-b", env, tmp_path)]
    try:
        wait_for(lambda: any(sends(b) >= 2 for b in beats), 180, "a beat sending", *beats)
        leader = next(b for b in beats if sends(b))
        standby = next(b for b in beats if b is not leader)
        wait_for(lambda: "standing by" in standby.output(), 120, "the other beat on standby", *beats)
        assert "leader lock taken" in leader.output() and "leader lock taken" not in standby.output()
        assert lock_holders() == 1

        # Both run for a while: one compaction a second reaches the broker, not two.
        queued, sent, started = broker.waiting("engine"), sends(leader), time.monotonic()
        time.sleep(6)
        elapsed = time.monotonic() - started
        assert sends(standby) == 0
        assert 3 <= sends(leader) - sent <= elapsed + 1
        assert broker.waiting("engine") - queued <= elapsed + 1, "both beats sent"

        leader.kill()
        killed_at = time.monotonic()
        wait_for(lambda: "leader lock taken" in standby.output(), 60, "the standby taking over", standby)
        wait_for(lambda: sends(standby) >= 3, 60, "the new leader sending", standby)
        assert time.monotonic() - killed_at < 30
        assert lock_holders() == 1

        # The killed one comes back: it stands by, the new leader keeps sending alone.
        before = leader.output().count("standing by")
        leader.start()
        wait_for(lambda: leader.output().count("standing by") > before, 120, "the restarted beat on standby", *beats)
        old_sends, new_sends = sends(leader), sends(standby)
        time.sleep(4)
        assert sends(leader) == old_sends
        assert sends(standby) > new_sends
        assert lock_holders() == 1
    finally:
        for b in beats:
            b.stop()
        broker.stop()
