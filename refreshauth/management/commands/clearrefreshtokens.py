from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from refreshauth.sessions import clear_expired


class Command(BaseCommand):
    help = (
        "Delete refresh-token sessions that can never be used again (expired), in batches. "
        "Safe to run from cron while the site serves traffic."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows deleted per transaction (1000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive integer.")
        verbosity: int = options["verbosity"]

        def progress(count: int) -> None:
            if verbosity >= 2:
                self.stdout.write(f"Deleted a batch of {count} rows.")

        count = clear_expired(batch_size=batch_size, dry_run=options["dry_run"], on_batch=progress)
        if verbosity >= 1:
            if options["dry_run"]:
                self.stdout.write(f"Would delete {count} expired refresh token rows.")
            else:
                self.stdout.write(f"Deleted {count} expired refresh token rows.")
