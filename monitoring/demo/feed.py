"""The live feed: the demo's traffic after the seed, drawn from the same streams as the seed.

Pure numpy/pandas (no Django, no HTTP): ``LiveFeed.between(since, until)`` says what a serving
system would have logged in that stretch of time, and which labels came back in it.

Each hour's requests are drawn from a generator seeded by the model and the hour, so any hour
is the same whenever it is drawn: a restarted feed re-sends rows the server already has (it
counts them as duplicates) and still knows the labels of requests a previous run sent.
"""

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import DemoModel, Stream, Traffic
from .traffic import hour_arrivals

HOUR = pd.Timedelta(hours=1)
FEED_SEED = 2026


@dataclass
class Source:
    """One seeded model as the feed continues it."""

    slug: str
    stream: Stream
    later_labels: pd.DataFrame


@dataclass
class Batch:
    """What one model's serving system sends for a stretch of time."""

    slug: str
    predictions: pd.DataFrame
    shadow: pd.DataFrame | None
    labels: pd.DataFrame


class LiveFeed:
    """Continues ``scenario`` (built with ``now=end``, the seed's end) past its end.

    The requests after ``end`` come from each model's stream as it stands at the end (loan
    default's shifted regime, its shadow version); the labels of seeded requests that come back
    after ``end`` are sent as they come back.
    """

    def __init__(self, scenario: list[DemoModel], *, end: pd.Timestamp):
        # Only what the feed needs: the seeded frames (~100 MB at scale 1) are not kept alive.
        self.sources = [Source(demo.slug, demo.stream, demo.later_labels) for demo in scenario]
        self.end = end
        self._hours: dict[tuple[str, pd.Timestamp], Traffic] = {}

    def hour(self, demo: Source, hour: pd.Timestamp) -> Traffic:
        """The requests arriving in [hour, hour + 1 h) after the seed's end, with all their labels."""
        key = (demo.slug, hour)
        if key not in self._hours:
            rng = np.random.default_rng([FEED_SEED, zlib.crc32(demo.slug.encode()), int(hour.timestamp()) // 3600])
            times = hour_arrivals(rng, hour=hour, per_day=demo.stream.per_day)
            if times.empty:  # a quiet night hour at a small scale
                nothing = pd.DataFrame({"request_id": pd.Series([], dtype=object), "timestamp": times})
                self._hours[key] = Traffic(predictions=nothing, labels=nothing)
                return self._hours[key]
            traffic = demo.stream.requests(rng, times, tag=f"{hour:%Y%m%d%H}-")
            # The seed sent this hour up to its end: the feed takes over after it.
            new = (traffic.predictions["timestamp"] > self.end).to_numpy()
            predictions = traffic.predictions[new].reset_index(drop=True)
            ids = set(predictions["request_id"])
            labels = traffic.labels[traffic.labels["request_id"].isin(ids)]
            shadow = None if traffic.shadow is None else traffic.shadow[traffic.shadow["request_id"].isin(ids)]
            self._hours[key] = Traffic(predictions=predictions, labels=labels, shadow=shadow)
        return self._hours[key]

    def between(self, since: pd.Timestamp, until: pd.Timestamp) -> list[Batch]:
        """Per model: the requests logged in (since, until] and the labels that came back in it."""
        batches = []
        for demo in self.sources:
            first = max(since - demo.stream.label_delay, self.end).floor("h")
            hours = [self.hour(demo, hour) for hour in pd.date_range(first, until.floor("h"), freq="h")]
            predictions = concat([t.predictions for t in hours], logged_in=(since, until))
            shadows = [t.shadow for t in hours if t.shadow is not None]
            shadow = concat(shadows, logged_in=(since, until)) if shadows else None
            labels = concat([demo.later_labels, *(t.labels for t in hours)], logged_in=(since, until))
            batches.append(Batch(demo.slug, predictions, shadow, labels.sort_values("timestamp", kind="stable")))
            # Hours whose labels have all come back are not needed again.
            oldest = (until - demo.stream.label_delay - HOUR).floor("h")
            for key in [key for key in self._hours if key[0] == demo.slug and key[1] < oldest]:
                del self._hours[key]
        return batches


def concat(frames: list[pd.DataFrame], *, logged_in: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """The rows of ``frames`` whose ``timestamp`` lies in (since, until]."""
    present = [f for f in frames if f is not None]
    if not present:
        return pd.DataFrame({"timestamp": pd.Series([], dtype="datetime64[ns, UTC]")})
    frame = pd.concat([f for f in present if len(f)] or present[:1], ignore_index=True)
    since, until = logged_in
    return frame[(frame["timestamp"] > since) & (frame["timestamp"] <= until)].reset_index(drop=True)
