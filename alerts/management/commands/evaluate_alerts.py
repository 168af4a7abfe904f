"""``manage.py evaluate_alerts --model SLUG [--subscribe USER ...]``: run alert evaluation now.

The same services the pipeline runs after an analysis (``evaluate_alerts_task``) and the beat's
sender (``send_notifications_task``), for analyses made outside Celery (``compute_metrics``, the
demo seed). Windows older than a rule's lookback are evaluated for the alert pages' history and
never notify."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monitoring.models import MLModel, ModelVersion

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

    def handle(self, *args, model=None, all_models=False, subscribe=(), no_send=False, **opts):
        if not model and not all_models:
            raise CommandError("give --model SLUG or --all")
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
                moved = alerts_evaluate(version_id=version.pk)
                told = sum(t.notify for t in moved)
                self.stdout.write(f"{ml.slug}@{version.version}: {len(moved)} alert transitions, {told} announced")
        sent = 0 if no_send else outbox_send_due()
        if not no_send:
            self.stdout.write(f"{sent} notifications sent")
