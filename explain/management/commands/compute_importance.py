import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from explain.importance import importance_refresh_version
from monitoring.models import ModelVersion


class Command(BaseCommand):
    help = "Backfill SHAP importance trends (per UTC day) for a model's versions that have an artifact."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="Model slug.")
        parser.add_argument("--model-version", dest="model_version", help="Only this version (default: all versions of the model).")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="First UTC day (YYYY-MM-DD).")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="Last UTC day, inclusive.")
        parser.add_argument("--force", action="store_true", help="Recompute days already computed.")

    def handle(self, *args, model: str, model_version: str | None, since, until, force: bool, **options):
        versions = ModelVersion.objects.filter(model__slug=model)
        if model_version:
            versions = versions.filter(version=model_version)
        if not versions.exists():
            raise CommandError(f"No version found for model '{model}'" + (f" and version '{model_version}'." if model_version else "."))
        for item in versions:
            days = importance_refresh_version(version=item, since=since, until=until, force=force)
            self.stdout.write(f"{item}: {days} day(s) computed")
