"""Run jobs at the same moment in threads with their own database connections.

A job stuck on a lock must fail the test, not hang the suite: every thread has a deadline,
and the backends of threads still running after it are terminated, so the transactional
test's teardown (TRUNCATE) cannot wait on them forever.
"""

import threading

from django.db import connection, connections

DEADLINE_S = 90


def run_threads(*jobs, deadline: float = DEADLINE_S) -> list:
    """Start every job in its own thread, released together; return their results in order."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    results: list = [None] * len(jobs)
    failures: list[BaseException] = []
    backends: dict[int, int] = {}

    def worker(k, job):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends[k] = cursor.fetchone()[0]
            barrier.wait()
            results[k] = job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k, job), daemon=True) for k, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline)
    stuck = [k for k, thread in enumerate(threads) if thread.is_alive()]
    if stuck:
        with connections["default"].cursor() as cursor:
            for k in stuck:
                if k in backends:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [backends[k]])
        for k in stuck:
            threads[k].join(10)
    assert not stuck, f"threads {stuck} still running after {deadline} s (their backends were terminated)"
    assert not failures, failures
    return results
