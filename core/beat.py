"""One beat sends, however many run: django_celery_beat's scheduler behind a PostgreSQL lock.

Every ``celery beat`` process tries a session-level advisory lock on a connection of its own,
held for as long as it leads. The one that gets it sends the periodic tasks; the others stay
on standby and try again every ``VIGIL_BEAT_STANDBY_SECONDS``. A leader that dies (SIGKILL, a
lost machine) loses its connection and with it the lock, so a standby takes over: it reads the
schedule and the last run times the leader saved after each send, and goes on from there.
Nothing but PostgreSQL is needed, which every process reaches anyway.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# Session-level lock (space, key): not a core.locks LockSpace, which are all transaction-level.
BEAT_LOCK = (0x564742, 1)  # "VGB"


class BeatLock:
    """The leader's advisory lock, on a dedicated autocommit connection kept open while it leads."""

    def __init__(self) -> None:
        self.connection: Any = None

    def try_take(self) -> bool:
        """Take the lock if nobody holds it; False (without waiting) when another beat leads."""
        try:
            if self.connection is None:
                self.connection = _connect()
            with self.connection.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)", BEAT_LOCK)
                taken = bool(cur.fetchone()[0])
        except Exception as exc:  # noqa: BLE001 - the database away: stay on standby and retry
            logger.warning("beat: cannot reach the database for the leader lock (%s)", exc)
            self.release()
            return False
        return taken

    def held(self) -> bool:
        """True while our connection lives: PostgreSQL keeps a session lock until the session ends."""
        if self.connection is None:
            return False
        try:
            with self.connection.cursor() as cur:
                cur.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - connection gone: the lock went with it
            self.release()
            return False
        return True

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()  # ends the session, and the lock with it
            except Exception:  # noqa: BLE001 - already closed
                pass
            self.connection = None


def _connect() -> Any:
    wrapper = connections["default"]
    connection = wrapper.get_new_connection(wrapper.get_connection_params())
    connection.autocommit = True
    with connection.cursor() as cur:
        cur.execute("SET application_name = 'vigil-beat-leader'")
        # A leader whose machine vanishes leaves a half-open TCP connection: these make the
        # server notice within about a minute and free the lock (ignored on unix sockets).
        cur.execute("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3")
    return connection


class GuardedScheduler(DatabaseScheduler):
    """``CELERY_BEAT_SCHEDULER``: a DatabaseScheduler that only sends while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock = BeatLock()
        self.leading = False
        self.waiting_said = False
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        # Called from __init__: a standby leaves the schedule tables alone until it leads.
        if self.leading:
            super().setup_schedule()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.leading and not self.lock.held():
            logger.warning("beat: lost the leader lock (database connection gone); standing by")
            self.leading = False
        if not self.leading:
            if not self.lock.try_take():
                if not self.waiting_said:
                    logger.info("beat: another beat holds the leader lock; standing by")
                    self.waiting_said = True
                return settings.VIGIL_BEAT_STANDBY_SECONDS
            logger.info("beat: leader lock taken; sending periodic tasks")
            self.leading, self.waiting_said = True, False
            # Start from what is in the database now: the previous leader's last runs.
            self._initial_read, self._heap, self._schedule, self._dirty = True, None, None, set()
            super().setup_schedule()
        return super().tick(*args, **kwargs)

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        super().apply_entry(entry, producer=producer)
        # Save the last run now, not minutes later: a standby taking over reads it, so at most
        # the one send in flight when the leader died is repeated.
        self.sync()

    def sync(self) -> None:
        if self.leading:
            super().sync()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.lock.release()
            self.leading = False
