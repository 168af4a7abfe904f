"""Remove raw prediction rows past each model's retention: ``apply_retention [--dry-run] [--model SLUG]``."""

from django.core.management.base import BaseCommand, CommandError

from monitoring.models import MLModel
from monitoring.services.retention import RetentionStep, retention_apply


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


class Command(BaseCommand):
    help = ("Drop week partitions whose raw prediction rows are all past retention; delete a model's expired "
            "rows in batches where a partition is still needed by another model. --dry-run prints what would go.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="print what would go, change nothing")
        parser.add_argument("--model", help="only this model's rows (slug)")

    def handle(self, *args, dry_run=False, model=None, **opts):
        chosen = None
        if model:
            chosen = MLModel.objects.filter(slug=model).first()
            if chosen is None:
                raise CommandError(f"--model: no model with slug {model!r}")
        slugs = dict(MLModel.objects.values_list("pk", "slug"))
        steps = retention_apply(model=chosen, dry_run=dry_run)
        verb = "would" if dry_run else "did"
        for step in steps:
            self.stdout.write(self._line(step, verb, slugs))
        drops = [s for s in steps if s.kind == "drop" and (dry_run or s.done)]
        rows = sum(s.rows for s in steps if dry_run or s.done)
        self.stdout.write(f"{'would remove' if dry_run else 'removed'}: {len(drops)} partition(s) "
                          f"({_mb(sum(s.bytes for s in drops))}), {rows:,} raw row(s)")

    def _line(self, step: RetentionStep, verb: str, slugs: dict) -> str:
        models = ", ".join(slugs.get(m, f"#{m}") for m in step.model_ids) or "no rows"
        if step.kind == "drop":
            kept = "" if verb == "would" or step.done else " (kept: a newer row arrived, retried next run)"
            return (f"{verb} drop {step.table} [{step.start:%Y-%m-%d}, {step.end:%Y-%m-%d}): {step.rows:,} rows, "
                    f"{_mb(step.bytes)} ({models}){kept}")
        return f"{verb} delete {step.rows:,} rows of {models} before {step.before:%Y-%m-%d %H:%M} UTC from {step.table}"
