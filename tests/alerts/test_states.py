"""An alert's state machine on the model, without a database (healthchecks keeps it there too)."""

from datetime import timedelta

from alerts.models import Alert, State

from .factories import HOUR, NOW


def feed(alert, pattern, *, start=NOW, for_windows=2, keep=1):
    states = []
    for i, ch in enumerate(pattern):
        states.append(alert.observe(breached=ch == "x", window_end=start + HOUR * i, for_windows=for_windows,
                                    keep_firing_for=keep))
    return states


def test_pending_then_firing_after_for_windows_then_resolved():
    alert = Alert(state=State.OK)
    assert feed(alert, "xx.") == [State.PENDING, State.FIRING, State.RESOLVED]
    assert alert.started_at == NOW + HOUR and alert.resolved_at == NOW + 2 * HOUR


def test_one_good_window_resets_pending():
    alert = Alert(state=State.OK)
    assert feed(alert, "x.x", for_windows=2) == [State.PENDING, State.OK, State.PENDING]


def test_keep_firing_for_needs_that_many_clear_windows():
    alert = Alert(state=State.OK)
    assert feed(alert, "x..x..", for_windows=1, keep=3) == [State.FIRING, None, None, None, None, None]
    assert feed(alert, ".", start=NOW + 6 * HOUR, for_windows=1, keep=3) == [State.RESOLVED]


def test_no_data_holds_pending_and_never_fires():
    alert = Alert(state=State.OK)
    feed(alert, "x", for_windows=2)
    assert alert.observe_no_data() == State.NO_DATA
    assert alert.state == State.NO_DATA


def test_regressed_when_firing_again_within_seven_days():
    alert = Alert(state=State.OK)
    feed(alert, "x.", for_windows=1)
    feed(alert, "x", start=NOW + timedelta(days=3), for_windows=1)
    assert alert.state == State.FIRING and alert.regressed
    feed(alert, ".", start=NOW + timedelta(days=3, hours=1), for_windows=1)
    feed(alert, "x", start=NOW + timedelta(days=20), for_windows=1)
    assert not alert.regressed


def test_flapping_after_four_flips_in_a_day():
    alert = Alert(state=State.OK)
    feed(alert, "x.x", for_windows=1)
    assert not alert.flapping
    feed(alert, ".", start=NOW + 3 * HOUR, for_windows=1)
    assert alert.flapping
    feed(alert, "x", start=NOW + timedelta(days=3), for_windows=1)
    assert not alert.flapping


def test_snooze_until_worse_follows_the_direction_of_the_threshold():
    alert = Alert(state=State.FIRING, snoozed_value=0.3)
    assert alert.worse_than_snooze(0.35, ">") and not alert.worse_than_snooze(0.25, ">")
    assert alert.worse_than_snooze(0.25, "<") and not alert.worse_than_snooze(0.35, "<")


def test_the_subject_dates_the_trouble_from_its_first_breaching_window():
    from datetime import UTC, datetime

    from alerts.models import Alert, AlertRule
    from alerts.services.headline import headline

    midnight = datetime(2026, 12, 7, tzinfo=UTC)
    alert = Alert(kind="performance", metric="accuracy", value=0.62, expected=[0.78, 0.9], started_at=midnight)
    # A daily window of 6 Dec fires at its close, midnight on the 7th: the trouble began on the 6th.
    daily = AlertRule(kind="performance", granularity="day", for_windows=1, threshold="learned")
    assert headline(alert, daily) == "accuracy 0.62 < 0.78 since 6 Dec"
    # Two hourly windows: fired at 00:00 on the 7th, the first breaching hour began at 22:00 on the 6th.
    hourly = AlertRule(kind="performance", granularity="hour", for_windows=2, threshold="learned")
    assert headline(alert, hourly).endswith("since 6 Dec")
    assert headline(Alert(kind="performance", metric="accuracy", value=0.62, expected=[0.78, 0.9],
                          started_at=midnight.replace(hour=5)), hourly).endswith("since 7 Dec")
