"""Two evaluations of one version at once are serialised by the evaluation lock, taken by the
version's read: the second sees the cursors the first moved, so a window fires once."""

import threading
import time

import pytest
from django.db import connection, transaction

from alerts.models import Alert, AlertEvent, Notification, State
from alerts.services.evaluate import alerts_evaluate
from core.locks import LockSpace, advisory_lock
from tests.threads import run_threads

from .factories import NOW, hours, make_model


@pytest.mark.django_db(transaction=True)
def test_evaluations_racing_on_one_version_wait_for_the_lock_and_fire_once():
    version = make_model()
    conds = hours("drift", "..xx", feature="income", metric="js")
    held = threading.Event()
    seen_while_held: list[int] = []

    def holder():
        with transaction.atomic():
            advisory_lock(LockSpace.ALERT_EVALUATION, version.id)
            held.set()
            time.sleep(1.5)  # both evaluations are waiting on the lock by now
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                seen_while_held.append(cur.fetchone()[0])
            seen_while_held.append(Alert.objects.count())

    def evaluate():
        assert held.wait(30)
        return alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)

    _, first, second = run_threads(holder, evaluate, evaluate)
    assert seen_while_held == [2, 0]  # both evaluations blocked on the lock, nothing written
    assert sorted(len(t) for t in (first, second)) == [0, 2]  # pending then firing, by one of them
    alert = Alert.objects.get()
    assert alert.state == State.FIRING
    assert AlertEvent.objects.filter(alert=alert, state=State.FIRING).count() == 1
    assert Notification.objects.filter(channel="email").count() == 1
