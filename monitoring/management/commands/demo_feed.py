"""``manage.py demo_feed --url http://127.0.0.1:8000``: keeps the seeded demo's traffic flowing.

Started by ``make run`` after ``seed_demo``. Once a minute it sends each demo model the
requests of the last minute, loan-default's shadow predictions of them, and the labels that
came back in that minute, over HTTP through the Python client, at the rate the demo was seeded
with. Without it, the demo models go silent after the seed and fire "No data" within hours.
"""

import time

import pandas as pd
import requests
from django.core.management.base import BaseCommand

from client import VigilClient, VigilError
from monitoring.demo import loan

from .seed_demo import token_create

TOKEN_NAME = "demo-feed"


class Command(BaseCommand):
    help = "Keep sending the seeded demo's traffic (predictions and late labels) as time passes."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="base URL of the running Vigil")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between batches")
        parser.add_argument("--catch-up", type=float, default=6.0,
                            help="hours of missed traffic sent at start (after a stop; never before the seed's end)")
        parser.add_argument("--once", action="store_true", help="send one batch and exit")

    def handle(self, *args, url: str, interval: float, catch_up: float, once: bool, **options):
        from monitoring.demo import build_scenario
        from monitoring.demo.feed import LiveFeed

        client = VigilClient(url, token_create(name=TOKEN_NAME, scopes=("ingest", "read")), timeout=120)
        scenario_info = self.wait_for_seed(client, interval, once)
        if scenario_info is None:
            return
        end, scale, days = scenario_info
        # The same end, scale and days give the seed's models and requests again (fixed seeds):
        # the feed continues them rather than a look-alike.
        feed = LiveFeed(build_scenario(now=end, scale=scale, days=days), end=end)
        since = max(end, now() - pd.Timedelta(hours=catch_up))
        self.stdout.write(f"Demo feed: scale {scale}, continuing from {since:%Y-%m-%d %H:%M:%S} UTC "
                          f"every {interval:.0f}s")  # fmt: skip
        while True:
            started = time.monotonic()
            until = now()
            try:
                self.send(client, feed, since, until)
                since = until
            except (VigilError, requests.RequestException) as exc:
                # The server is busy or restarting: the next tick sends this stretch again
                # (rows it already stored count as duplicates).
                self.stderr.write(f"Demo feed: {exc}; retrying next time")
            if once:
                return
            time.sleep(max(1.0, interval - (time.monotonic() - started)))

    def wait_for_seed(self, client: VigilClient, interval: float, once: bool) -> tuple[pd.Timestamp, float, int] | None:
        """(end, scale, days) of the seeded scenario, read from loan-default's version; waits for the seed."""
        while True:
            try:
                scenario = client.get_version(loan.SLUG, loan.VERSION)["metadata"].get("scenario", {})
            except VigilError as exc:
                if exc.status != 404:
                    raise
                scenario = None
            if scenario and "end" in scenario:
                return pd.Timestamp(scenario["end"]), float(scenario["scale"]), int(scenario["days"])
            if scenario is not None:
                # Seeded before the feed existed: continue from now, without the seed's late labels.
                self.stderr.write("Demo feed: the demo was seeded by an older Vigil; continuing from now")
                return now().floor("s"), float(scenario.get("scale", 1.0)), int(scenario.get("days", 30))
            if once:
                self.stderr.write("Demo feed: the demo is not seeded yet")
                return None
            time.sleep(interval)

    def send(self, client: VigilClient, feed, since: pd.Timestamp, until: pd.Timestamp) -> None:
        counts = []
        for batch in feed.between(since, until):
            # Predictions (production, then shadow) before labels: a label counts for every
            # version that predicted its request.
            sent = [client.send_predictions(batch.slug, frame) for frame in (batch.predictions, batch.shadow)
                    if frame is not None and len(frame)]  # fmt: skip
            labelled = client.send_labels(batch.slug, batch.labels) if len(batch.labels) else {"matched": 0}
            for result in (*sent, labelled):
                if result.get("rejected"):
                    self.stderr.write(f"Demo feed: {batch.slug}: rejected {result['rejected'][:3]}")
            counts.append(f"{batch.slug} {sum(r['accepted'] for r in sent)}+{labelled['matched']}")
        self.stdout.write(f"Demo feed {until:%H:%M:%S}: predictions+labels " + ", ".join(counts))


def now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")
