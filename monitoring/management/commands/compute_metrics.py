"""Backfill monitoring results: ``compute_metrics --model SLUG [--since --until] [--rebuild]``."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from monitoring.models import MLModel, ModelVersion, Prediction, WindowSketch
from monitoring.selectors.profile import profile_load
from monitoring.selectors.retention import raw_whole_weeks_from
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.profile import profile_build
from monitoring.services.rebuild import profile_rebuild, sketches_rebuild


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None and parse_date(value) is not None:
        parsed = datetime.fromisoformat(value + "T00:00:00+00:00")
    if parsed is None:
        raise CommandError(f"--{name}: not an ISO date or datetime: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class Command(BaseCommand):
    help = "Compact sketches and (re)compute analyses of a model's windows; --rebuild re-reads raw rows."

    def add_arguments(self, parser):
        parser.add_argument("--model", help="model slug")
        parser.add_argument("--all", action="store_true", dest="all_models", help="every model")
        parser.add_argument("--since", help="ISO date/datetime (UTC), inclusive")
        parser.add_argument("--until", help="ISO date/datetime (UTC), exclusive")
        parser.add_argument("--rebuild", action="store_true", help="recompute sketches from raw prediction rows")

    def handle(self, *args, model=None, all_models=False, since=None, until=None, rebuild=False, **opts):
        if not model and not all_models:
            raise CommandError("give --model SLUG or --all")
        since_at, until_at = _when(since, "since"), _when(until, "until")
        if since_at and until_at and since_at >= until_at:
            raise CommandError("--since must be before --until")
        models = MLModel.objects.all() if all_models else MLModel.objects.filter(slug=model)
        if model and not models.exists():
            raise CommandError(f"no model with slug {model!r}")
        quiet = opts.get("verbosity", 1) == 0
        for ml in models:
            for version in ModelVersion.objects.filter(model=ml).select_related("model").order_by("created_at"):
                self._version(version, since_at, until_at, rebuild, quiet)

    def _version(self, version, since, until, rebuild, quiet):
        label = f"{version.model.slug}@{version.version}"
        if rebuild:
            floor = raw_whole_weeks_from(model_id=version.model_id)
            if floor is not None and (since is None or since < floor):
                kept = f"raw rows are kept {version.model.raw_retention_days} days"
                if since is not None or (until is not None and until <= floor):
                    raise CommandError(
                        f"--rebuild: raw rows of {version.model.slug} before {floor:%Y-%m-%d %H:%M} UTC were removed "
                        f"by retention ({kept}); re-folding them would empty the windows kept for that range. "
                        f"Give --since {floor:%Y-%m-%d} or later.")
                self.stderr.write(f"{label}: raw rows before {floor:%Y-%m-%d %H:%M} UTC were removed by retention "
                                  f"({kept}): rebuilding from {floor:%Y-%m-%d} only; earlier windows are kept as they are")
                since = floor
            profile_build(version=version)
            rows = Prediction.objects.filter(version=version)
            if since:
                rows = rows.filter(timestamp__gte=since)
            if until:
                rows = rows.filter(timestamp__lt=until)
            with tqdm(total=rows.count(), desc=f"{label} rows", unit="row", disable=quiet) as bar:
                sketches_rebuild(version=version, start=since, end=until, progress=bar.update)
        elif profile_load(version=version) is None:
            profile_rebuild(version=version)  # first profile: re-folds rows folded without bins
        else:
            profile_rebuild(version=version, missing_only=True)  # finishes a re-fold cut short, if any
            sketches_compact_all(version_id=version.pk)
        # What version_analyse walks: hour and day windows of all rows and of every tracked segment.
        windows = WindowSketch.objects.filter(version=version, granularity__in=("hour", "day"))
        if since:
            windows = windows.filter(window_start__gte=since)
        if until:
            windows = windows.filter(window_start__lt=until)
        with tqdm(total=windows.count(), desc=f"{label} windows", unit="window", disable=quiet) as bar:
            done = version_analyse(version_id=version.pk, since=since, until=until, force=True, progress=bar.update)
        if not quiet:
            self.stdout.write(f"{label}: {done} windows analysed")
