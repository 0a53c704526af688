import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backend.common.errors import NotPermitted
from backend.common.progress import progress_bar
from backend.exposure.imports import ImportRejected, count_rows, exposure_import, text_stream
from backend.organisation.models import Person


class Command(BaseCommand):
    help = "Import a CSV file of exposure records for one person: every row, or none (docs/import.md)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8, header row first).")
        parser.add_argument("--person", required=True, help="The username of the person the records belong to.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        person = Person.objects.filter(username=options["person"]).first()
        if person is None:
            raise CommandError(f"No person with the username {options['person']!r}.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        total = count_rows(path)
        started = time.monotonic()
        try:
            with (
                text_stream(path) as stream,
                progress_bar(total=total, unit="rows", disable=options["no_progress"], desc="reading") as bar,
            ):
                job = exposure_import(
                    person=person, stream=stream, now=timezone.now(), progress=bar.update, total_rows=total
                )
        except NotPermitted as exc:
            raise CommandError(str(exc)) from exc
        except ImportRejected as exc:
            for problem in exc.problems:
                where = f"line {problem.line}, " if problem.line else ""
                self.stderr.write(f"{where}{problem.field}: {problem.message}")
            shown = len(exc.problems)
            more = f" (the first {shown} are listed)" if exc.count > shown else ""
            raise CommandError(f"Rejected: {exc.count} problem(s){more}. Nothing was stored.") from exc
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Imported {job.stored_rows} records for {person.username} from {path.name} in {seconds:.1f} s "
            f"({job.stored_rows / max(seconds, 1e-9):,.0f} rows/s); rollups rebuilt. Import {job.public_id}."
        )
