import os
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backend.common.progress import progress_bar
from backend.demo.seed import seed_organisation

DEMO_PASSWORD = os.environ.get("KEEL_DEMO_PASSWORD", "keel-demo-2026")


class Command(BaseCommand):
    help = "Seed a synthetic organisation: units, teams, people with realistic role mixes, and the demo personas."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=60)
        parser.add_argument("--days", type=int, default=90, help="Days of history to generate.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", type=date.fromisoformat, default=None, help="Anchor date (YYYY-MM-DD).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["today"] or timezone.localdate()
        quiet = options["no_progress"]
        # Roughly 2 records per person per working day, for the second bar's scale.
        expected_records = int(options["people"] * options["days"] * 5 / 7 * 1.6)
        with (
            progress_bar(total=options["people"], unit="people", disable=quiet, desc="people") as people,
            progress_bar(total=expected_records, unit="records", disable=quiet, desc="records") as records,
        ):
            try:
                result = seed_organisation(
                    people=options["people"],
                    days=options["days"],
                    seed=options["seed"],
                    today=today,
                    password=DEMO_PASSWORD,
                    progress=people.update,
                    progress_records=records.update,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Seeded {result.people} people in {result.units} units and {result.teams} teams "
            f"({result.memberships} memberships, {result.roles} roles) and {result.records} exposure records."
        )
