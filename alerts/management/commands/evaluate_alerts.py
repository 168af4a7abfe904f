"""``manage.py evaluate_alerts --model SLUG [--subscribe USER ...] [--now ISO]``: run alert evaluation now.

The same services the pipeline runs after an analysis (``evaluate_alerts_task``) and the beat's
sender (``send_notifications_task``), for analyses made outside Celery (``compute_metrics``, the
demo seed). Windows older than a rule's lookback are evaluated for the alert pages' history and
never notify. ``--now`` evaluates as of a past time (the demo seed replays a day as a running
Vigil saw it then); what that evaluation puts in the outbox is sent at the real now."""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monitoring.models import MLModel, ModelVersion

from ... import clock
from ...models import Subscription
from ...services.evaluate import alerts_evaluate
from ...services.send import outbox_send_due


class Command(BaseCommand):
    help = "Evaluate the alert rules of a model's versions on their analysed windows and send what is due."

    def add_arguments(self, parser):
        parser.add_argument("--model", help="model slug")
        parser.add_argument("--all", action="store_true", dest="all_models", help="every model")
        parser.add_argument("--subscribe", nargs="*", default=[], metavar="USER",
                            help="usernames to subscribe to the model's alerts first")
        parser.add_argument("--no-send", action="store_true", help="leave the outbox to the beat's sender")
        parser.add_argument("--now", metavar="ISO", help="evaluate as of this past time (UTC when no offset is given)")

    def handle(self, *args, model=None, all_models=False, subscribe=(), no_send=False, now=None, **opts):
        if not model and not all_models:
            raise CommandError("give --model SLUG or --all")
        as_of = past_time(now) if now else None
        models = list(MLModel.objects.all() if all_models else MLModel.objects.filter(slug=model))
        if not models:
            raise CommandError(f"no model with slug {model!r}")
        users = list(get_user_model().objects.filter(username__in=subscribe))
        if missing := set(subscribe) - {u.username for u in users}:
            raise CommandError(f"--subscribe: no user named {', '.join(sorted(missing))}")
        for ml in models:
            for user in users:
                Subscription.objects.get_or_create(model=ml, user=user)
            for version in ModelVersion.objects.filter(model=ml).order_by("created_at"):
                moved = alerts_evaluate(version_id=version.pk, now=as_of)
                told = sum(t.notify for t in moved)
                self.stdout.write(f"{ml.slug}@{version.version}: {len(moved)} alert transitions, {told} announced")
        # Sent at the real now: a message due at ``--now`` is due now too.
        sent = 0 if no_send else outbox_send_due()
        if not no_send:
            self.stdout.write(f"{sent} notifications sent")


def past_time(value: str) -> datetime:
    """``--now``: an ISO time not after the real now. An evaluation as of a future time would
    judge windows that have not closed, and its cursors would skip them when they do."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now: not an ISO time: {value!r}") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    if at > clock.now():
        raise CommandError(f"--now: {at.isoformat()} is in the future")
    return at
