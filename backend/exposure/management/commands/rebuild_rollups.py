from typing import Any

from django.core.management.base import BaseCommand

from backend.common.progress import progress_bar
from backend.exposure import rollups


class Command(BaseCommand):
    help = "Recompute every exposure rollup from the records (exact; one transaction)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        with progress_bar(total=4, unit="tables", disable=options["no_progress"]) as bar:
            result = rollups.rebuild(progress=bar.update)
        self.stdout.write(
            f"Rebuilt {result['day_rows']} daily and {result['period_rows']} period rollup rows "
            f"({result['seconds'] // 60} minutes in all)."
        )
