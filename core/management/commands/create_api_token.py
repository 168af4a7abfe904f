from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from core.services.tokens import api_token_create


class Command(BaseCommand):
    help = "Create a scoped API token and print its key once (only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scopes", required=True, help="comma-separated: ingest,read,admin,ops")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="refuse the token after this many days (default: never)"
        )

    def handle(self, *args, name: str, scopes: str, expires_in_days: int | None, **options):
        try:
            _, key = api_token_create(
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                expires_in_days=expires_in_days,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except IntegrityError:
            raise CommandError(f"A token named {name!r} already exists.") from None
        self.stdout.write(key)
