"""The demo's live feed: the seeded scenario keeps going after the seed, over HTTP."""

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from monitoring.demo import build_scenario, loan
from monitoring.demo.feed import LiveFeed

END = pd.Timestamp("2026-03-02 00:00", tz="UTC")  # a Monday: a week from here is an average week
WEEK = pd.Timedelta(days=7)


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(now=END, scale=0.2)


def by_slug(batches) -> dict:
    return {batch.slug: batch for batch in batches}


def test_feed_keeps_each_models_seeded_rate(scenario):
    week = by_slug(LiveFeed(scenario, end=END).between(END, END + WEEK))
    for demo in scenario:
        rows = week[demo.slug].predictions
        slates = rows["slate_id"].nunique() if "slate_id" in rows else len(rows)
        # Poisson counts: about 2,800 loans, 1,100 orders and 420 slates; 12% is over 4 sigma for the slates.
        assert abs(slates / (7 * demo.stream.per_day) - 1) < 0.12, (demo.slug, slates)
        assert rows["timestamp"].between(END, END + WEEK, inclusive="right").all()
        assert rows["request_id"].is_unique and not rows["request_id"].isin(demo.predictions["request_id"]).any()
        seeded_per_day = len(demo.predictions) / 30
        assert abs(len(rows) / 7 / seeded_per_day - 1) < 0.12, (demo.slug, len(rows), seeded_per_day)


def test_loan_default_stays_after_both_shifts(scenario):
    demo = scenario[0]
    assert demo.slug == loan.SLUG
    batch = by_slug(LiveFeed(scenario, end=END).between(END, END + WEEK))[loan.SLUG]
    rows = batch.predictions
    reference = demo.reference
    # Covariate shift continues: lower incomes and credit scores than the training data; the others not.
    assert rows["credit_score"].mean() < reference["credit_score"].mean() - 35
    assert rows["income"].median() < 0.8 * reference["income"].median()
    assert abs(rows["loan_amount"].median() / reference["loan_amount"].median() - 1) < 0.1
    assert rows["employment_years"].notna().all()  # the null bug was one day before the seed ended

    # Concept shift continues: production's decisions are as wrong as in the seed's last week,
    # and the shadow version (retrained after the shift) logs every request and is better.
    everything = LiveFeed(scenario, end=END).between(END, END + WEEK + pd.Timedelta(days=5))
    outcome = by_slug(everything)[loan.SLUG].labels.set_index("request_id")["label"]
    right = rows.set_index("request_id")["prediction"] == outcome.reindex(rows["request_id"]).to_numpy()
    seeded = demo.predictions.merge(demo.labels, on="request_id", suffixes=("", "_back"))
    day = (seeded["timestamp"] - pd.Timestamp(demo.metadata["scenario"]["start"])) // pd.Timedelta(days=1)
    seeded_right = seeded["prediction"] == seeded["label"]
    before, after = seeded_right[day < loan.SHIFT_DAY].mean(), seeded_right[day >= 23].mean()
    assert right.mean() < before - 0.05 and abs(right.mean() - after) < 0.05, (right.mean(), before, after)
    shadow = batch.shadow.set_index("request_id")
    assert set(shadow.index) == set(rows["request_id"]) and (shadow["version"] == loan.SHADOW_VERSION).all()
    shadow_right = shadow["prediction"] == outcome.reindex(shadow.index)
    assert shadow_right.mean() > right.mean() + 0.03


def test_labels_come_back_with_the_demos_delays(scenario):
    feed = LiveFeed(scenario, end=END)
    hours = [by_slug(feed.between(END + k * pd.Timedelta(hours=1), END + (k + 1) * pd.Timedelta(hours=1)))
             for k in range(24 * 6)]  # fmt: skip
    for demo in scenario:
        sent = pd.concat([h[demo.slug].predictions[["request_id", "timestamp"]] for h in hours])
        labels = pd.concat([h[demo.slug].labels for h in hours])
        assert labels["request_id"].is_unique  # each label once, in the hour it comes back
        # The seed's requests whose labels were not back at its end get them now, on time.
        later = demo.later_labels[demo.later_labels["timestamp"] <= END + pd.Timedelta(days=6)]
        assert len(later) and later["request_id"].isin(labels["request_id"]).all()
        joined = labels.merge(sent, on="request_id", suffixes=("", "_request"))
        delay = (joined["timestamp"] - joined["timestamp_request"]) / pd.Timedelta(hours=1)
        assert len(joined) > 100 and (delay > 0).all()
        assert delay.max() <= demo.stream.label_delay / pd.Timedelta(hours=1)
    loans = pd.concat([h[loan.SLUG].labels for h in hours]).merge(
        pd.concat([h[loan.SLUG].predictions[["request_id", "timestamp"]] for h in hours]),
        on="request_id", suffixes=("", "_request"),
    )  # fmt: skip
    loan_delay = (loans["timestamp"] - loans["timestamp_request"]) / pd.Timedelta(days=1)
    assert loan_delay.between(2, 5).all() and len(loan_delay) > 100


def test_an_hour_is_the_same_whenever_it_is_drawn(scenario):
    # A restarted feed re-sends rows the server already has rather than new ones next to them.
    stretch = (END + pd.Timedelta(hours=30), END + pd.Timedelta(hours=31))
    first = by_slug(LiveFeed(scenario, end=END).between(*stretch))
    again = by_slug(LiveFeed(build_scenario(now=END, scale=0.2), end=END).between(*stretch))
    for slug, batch in first.items():
        pd.testing.assert_frame_equal(batch.predictions, again[slug].predictions)
        pd.testing.assert_frame_equal(batch.labels, again[slug].labels)


@pytest.mark.django_db(transaction=True)
def test_one_tick_of_the_feed_sends_rows_labels_and_the_shadow(live_server):
    from monitoring.models import Label, Prediction, ReferenceRow

    end = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(hours=30)
    call_command("seed_demo", url=live_server.url, scale=0.05, days=30, end=end.isoformat(), no_metrics=True)
    seeded = Prediction.objects.count()
    before = pd.Timestamp.now(tz="UTC")
    call_command("demo_feed", url=live_server.url, once=True, catch_up=48)
    after = pd.Timestamp.now(tz="UTC")
    assert Prediction.objects.count() > seeded

    scenario = build_scenario(now=end, scale=0.05)
    expected_early = by_slug(LiveFeed(scenario, end=end).between(end, before))
    expected_late = by_slug(LiveFeed(scenario, end=end).between(end, after))
    for demo in scenario:
        stored = Prediction.objects.filter(model__slug=demo.slug, served=True, timestamp__gt=end.to_pydatetime())
        ids = set(stored.values_list("request_id", flat=True))
        # Every request up to the tick (the newest ones near now included), none from its future.
        assert set(expected_early[demo.slug].predictions["request_id"]) <= ids
        assert ids <= set(expected_late[demo.slug].predictions["request_id"])
        assert len(ids) >= 10, demo.slug
        newest = expected_early[demo.slug].predictions["timestamp"].max()
        assert stored.order_by("-timestamp").first().timestamp >= newest.to_pydatetime()
        # Labels came back for earlier requests: the seed's late ones and the feed's own.
        back = set(Label.objects.filter(model__slug=demo.slug, timestamp__gt=end.to_pydatetime())
                   .values_list("request_id", flat=True))  # fmt: skip
        labels = expected_early[demo.slug].labels
        assert set(labels["request_id"]) <= back and len(back) > 0, demo.slug
        if demo.slug != loan.SLUG:  # loans take 2-5 days: the feed's own are not back yet
            assert back & ids, demo.slug

    # loan-default's new rows are from after the covariate shift, logged by the shadow too.
    loans = pd.DataFrame(Prediction.objects.filter(model__slug=loan.SLUG, served=True,
                                                   timestamp__gt=end.to_pydatetime()).values_list("features", flat=True))  # fmt: skip
    trained = pd.DataFrame(ReferenceRow.objects.filter(version__model__slug=loan.SLUG, version__version=loan.VERSION)
                           .values_list("features", flat=True))  # fmt: skip
    assert loans["credit_score"].mean() < trained["credit_score"].mean() - 25
    shadow = Prediction.objects.filter(model__slug=loan.SLUG, version__version=loan.SHADOW_VERSION,
                                       timestamp__gt=end.to_pydatetime())  # fmt: skip
    assert shadow.count() == len(loans) and not shadow.filter(served=True).exists()
    assert np.isfinite(loans["income"]).all()

    # A second tick over the same stretch (a restarted feed) stores each request once, with
    # the rows of the new seconds only.
    before = pd.Timestamp.now(tz="UTC")
    call_command("demo_feed", url=live_server.url, once=True, catch_up=48)
    after = pd.Timestamp.now(tz="UTC")
    for demo in scenario:
        ids = list(Prediction.objects.filter(model__slug=demo.slug, served=True, timestamp__gt=end.to_pydatetime())
                   .values_list("request_id", flat=True))  # fmt: skip
        early, late = (set(by_slug(LiveFeed(scenario, end=end).between(end, t))[demo.slug].predictions["request_id"])
                       for t in (before, after))  # fmt: skip
        assert len(ids) == len(set(ids)) and early <= set(ids) <= late
