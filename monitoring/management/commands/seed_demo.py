"""``manage.py seed_demo --url http://127.0.0.1:8000``: the demo models and 30 days of traffic.

Everything goes through the Python client over HTTP against the running app, as a real
serving system would send it. Users and the seed's own API token are made directly.
Idempotent: a model that already has predictions is left alone.
"""

import sys
import time

import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from client import VigilClient, VigilError
from core import roles
from core.models import ApiToken
from core.services.tokens import api_token_create
from monitoring.models import Prediction
from monitoring.services.partitions import partitions_split_default

TOKEN_NAME = "demo-seed"
# (username, password, group, superuser): local demo logins, printed by `make run`.
DEMO_USERS = (
    ("admin", "vigil-admin", roles.ADMINS, True),
    ("scientist", "vigil-scientist", roles.DATA_SCIENTISTS, False),
    ("agent", "vigil-agent", roles.SUPPORT_AGENTS, False),
)
# Daily rules an admin would add for loan-default (the defaults watch hour windows, too thin for
# labels at demo traffic). Labels come 2-5 days late, so a rule on realised performance only ever
# judges windows that ended days ago: its lookback is a week, or it could never notify. Windows
# older than a rule's lookback are history on the alert page, not mail; the quality rule's three
# days hold the null spike (the day before yesterday) and the clean day that resolved it.
# A day of 500 labels is a noisy judge: two clean days, not one, resolve a performance alert.
DEMO_ALERT_RULES = {
    "loan-default": [
        {"name": "Performance fell (daily)", "kind": "performance", "granularity": "day", "threshold": "learned",
         "for_windows": 1, "keep_firing_for": 2, "severity": "critical", "recipients": ["subscribers"],
         "lookback_hours": 168},
        {"name": "Concept drift (daily)", "kind": "concept_drift", "granularity": "day", "threshold": "learned",
         "for_windows": 1, "keep_firing_for": 2, "severity": "critical", "recipients": ["subscribers"],
         "lookback_hours": 168},
        {"name": "Data quality (daily)", "kind": "quality", "granularity": "day", "threshold": "learned",
         "for_windows": 1, "severity": "warning", "recipients": ["subscribers"], "lookback_hours": 72},
    ],
}
# The rule kinds the seed first evaluates as of the hour after the null spike's day closed, as a
# running Vigil saw it then: its FIRING mailed then, the RESOLVED at the seed's end. The rules on
# realised performance are made after that replay: it would judge their windows with labels that
# came later, and their cursors would then pass windows it could not judge yet, which the real-now
# evaluation would not read again (nothing is re-analysed in between).
REPLAYED_KINDS = {"quality"}
REPLAY_AFTER_CLOSE = pd.Timedelta(hours=1)


class Command(BaseCommand):
    help = "Seed the demo scenario (three models, 30 days of predictions and labels) through the API."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.SITE_URL, help="base URL of the running Vigil")
        parser.add_argument("--scale", type=float, default=1.0, help="traffic multiplier (1.0: ~2,000 loans/day)")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--end", default=None,
                            help="ISO time the scenario ends at (default: now); the live feed continues from it")
        parser.add_argument("--no-metrics", action="store_true", help="skip compute_metrics and compute_importance at the end")

    def handle(self, *args, url: str, scale: float, days: int, no_metrics: bool, end: str | None = None, **options):
        from monitoring.demo import build_scenario

        users_create()
        client = VigilClient(url, token_create(), timeout=300)
        pending_slugs = [slug for slug in ("loan-default", "delivery-time", "product-recs")
                         if not Prediction.objects.filter(model__slug=slug).exists()]  # fmt: skip
        if not pending_slugs:
            self.stdout.write("Demo already seeded: every demo model has predictions.")
            return
        started = time.monotonic()
        try:
            scenario = build_scenario(now=pd.Timestamp(end) if end else None, scale=scale, days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Simulated {days} days at scale {scale} in {time.monotonic() - started:.1f}s")
        for demo in scenario:
            if demo.slug not in pending_slugs:
                self.stdout.write(f"{demo.slug}: already has predictions, left alone")
                continue
            try:
                self.send(client, demo)
            except VigilError as exc:
                raise CommandError(f"{demo.slug}: {exc} {exc.body if exc.body else ''}") from exc
        # The history sent lands in the DEFAULT partition (only the current week and those ahead
        # exist): give each week its partition now, as the hourly beat would.
        split = partitions_split_default(max_rows=sys.maxsize)
        if split:
            self.stdout.write(f"Moved past weeks out of the default partition: {len(split)} week partitions")
        if not no_metrics and "compute_metrics" in get_commands():
            call_command("compute_metrics", all_models=True)
        if not no_metrics and "compute_importance" in get_commands():
            # The hourly beat task would get there too, but the demo should show trends at once.
            for slug in pending_slugs:
                call_command("compute_importance", model=slug)
        if not no_metrics and "evaluate_alerts" in get_commands():
            # What the pipeline does after each analysis: loan-default's concept shift fires, its
            # null spike has come and gone; the demo users hear of what falls in the rules' lookback.
            for demo in scenario:
                if demo.slug in pending_slugs:
                    self.alerts_evaluate(client, demo.slug, replay_at=null_spike_closed(demo))
        self.stdout.write(self.style.SUCCESS(f"Demo seeded in {time.monotonic() - started:.1f}s"))

    def alerts_evaluate(self, client: VigilClient, slug: str, *, replay_at: pd.Timestamp | None) -> None:
        """The demo rules and their evaluation: as of ``replay_at`` first (the replayed kinds'
        rules only), then at the real now."""
        subscribe = [name for name, *_ in DEMO_USERS]
        rules = DEMO_ALERT_RULES.get(slug, [])
        made = []
        # In the past for a scenario that ends now (the spike's next day has closed too) or
        # earlier; a scenario ending later (--end ahead of the clock) has nothing to replay.
        if replay_at is not None and replay_at < timezone.now():
            made = [r for r in rules if r["kind"] in REPLAYED_KINDS]
            for rule in made:
                tolerate_existing(lambda r=rule: client.create_alert_rule(slug, **r))
            call_command("evaluate_alerts", model=slug, subscribe=subscribe, now=replay_at.isoformat())
        for rule in rules:
            if rule not in made:
                tolerate_existing(lambda r=rule: client.create_alert_rule(slug, **r))
        call_command("evaluate_alerts", model=slug, subscribe=subscribe)

    def send(self, client: VigilClient, demo) -> None:
        tolerate_existing(lambda: client.create_model(demo.slug, demo.name, demo.task, demo.description))
        tolerate_existing(
            lambda: client.create_version(
                demo.slug, demo.version, demo.features, stage="production", threshold=demo.threshold,
                classes=demo.classes, metadata=demo.metadata,
            )
        )  # fmt: skip
        client.send_reference(demo.slug, demo.version, demo.reference)
        if demo.artifact is not None:
            client.upload_artifact(demo.slug, demo.version, demo.artifact, format=demo.artifact_format)
        sent = client.send_predictions(demo.slug, demo.predictions)
        shadow = self.send_shadow(client, demo)
        labels = client.send_labels(demo.slug, demo.labels)
        for what, result in (("predictions", sent), ("shadow predictions", shadow), ("labels", labels)):
            if result["rejected"]:
                raise CommandError(f"{demo.slug}: {len(result['rejected'])} {what} rejected, "
                                   f"first: {result['rejected'][:3]}")  # fmt: skip
        self.stdout.write(
            f"{demo.slug}: {sent['accepted']:,} predictions ({sent['duplicates']:,} duplicates), "
            f"{labels['matched']:,} labels matched, {labels['pending']:,} pending, "
            f"{len(demo.reference):,} reference rows"
            + (f"; shadow {demo.shadow.version}: {shadow['accepted']:,} predictions" if demo.shadow else "")
        )

    @staticmethod
    def send_shadow(client: VigilClient, demo) -> dict:
        """The shadow version with its reference data and artifact, and its predictions of the
        same requests (sent before the labels, which then count for both versions)."""
        shadow = demo.shadow
        if shadow is None:
            return {"accepted": 0, "rejected": []}
        tolerate_existing(
            lambda: client.create_version(
                demo.slug, shadow.version, demo.features, stage="shadow", threshold=demo.threshold,
                metadata=shadow.metadata,
            )
        )  # fmt: skip
        client.send_reference(demo.slug, shadow.version, shadow.reference)
        client.upload_artifact(demo.slug, shadow.version, shadow.artifact, format=shadow.artifact_format)
        return client.send_predictions(demo.slug, shadow.predictions)


def null_spike_closed(demo) -> pd.Timestamp | None:
    """The hour after the daily window of the demo's null spike closed (scenario days are UTC
    days), or None for a demo without one."""
    scenario = (demo.metadata or {}).get("scenario") or {}
    if "null_day" not in scenario:
        return None
    return pd.Timestamp(scenario["start"]) + pd.Timedelta(days=scenario["null_day"] + 1) + REPLAY_AFTER_CLOSE


def tolerate_existing(call) -> None:
    """Run a create call; a 409 means an earlier (interrupted) seed made it already."""
    try:
        call()
    except VigilError as exc:
        if exc.status != 409:
            raise


@transaction.atomic
def users_create() -> None:
    """The demo logins, each in its role's group; existing users keep their password."""
    User = get_user_model()
    for username, password, group_name, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password, email=f"{username}@example.com")
            user.is_superuser = user.is_staff = superuser
            user.save(update_fields=["is_superuser", "is_staff"])
        group, _ = Group.objects.get_or_create(name=group_name)
        user.groups.add(group)


def token_create(name: str = TOKEN_NAME, scopes: tuple[str, ...] = ("admin", "ingest", "read")) -> str:
    """A fresh key for the seed (or the live feed): only hashes are stored, so an old key cannot be recovered."""
    ApiToken.objects.filter(name=name).delete()
    _, key = api_token_create(name=name, scopes=list(scopes))
    return key
