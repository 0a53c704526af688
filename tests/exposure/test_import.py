"""CSV import: every rule checked in SQL, every bad row named, all rows or none, rollups exact."""

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.urls import include, path
from django.utils import timezone

from backend.alerts.models import Notification
from backend.audit.models import AuditEntry
from backend.common.errors import NotPermitted
from backend.exposure import import_api, imports, rollups
from backend.exposure.import_tasks import run_import
from backend.exposure.imports import COLUMNS, ImportRejected, exposure_import
from backend.exposure.models import (
    DayRollup,
    ExposureRecord,
    ImportJob,
    ImportStagingRow,
    PeriodRollup,
    SeverityCategory,
)
from backend.exposure.selectors import organisation_tz
from backend.exposure.services import RecordInput, exposure_record_create
from backend.organisation.services import token_create
from tests.conftest import _database_url, choose

# The routes as backend/urls.py includes them, whether or not it does yet.
urlpatterns = [path("api/v1/", include("backend.exposure.import_urls")), path("", include("backend.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
IMPORTS = "/api/v1/exposure/imports/"


def midday(days_ago: int) -> datetime:
    """Noon UTC some days back: inside one London day whatever the season."""
    return (
        (timezone.now() - timedelta(days=days_ago)).astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    )


def session(start: datetime, length: int = 60, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "session",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=length)).isoformat(),
        "media_type": "video",
        "severity": "A",
        "audio": "true",
        **extra,
    }


def day_entry(on: date, minutes: int | str = 90, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "day",
        "date": on.isoformat(),
        "minutes": str(minutes),
        "media_type": "still",
        "severity": "C",
        **extra,
    }


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def run(person: Any, text: str, **kwargs: Any) -> ImportJob:
    return exposure_import(person=person, stream=io.StringIO(text), now=timezone.now(), **kwargs)


def rejected(person: Any, text: str) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        run(person, text)
    return caught.value


def rollup_rows() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    fields = ("person_id", "team_id", "unit_id", "media_type", "severity", "seconds", "dose_milli", "records")
    return (
        set(DayRollup.objects.values_list("day", *fields)),
        set(PeriodRollup.objects.values_list("period", "period_start", *fields)),
    )


@pytest.fixture
def person(personas):  # type: ignore[no-untyped-def]
    choose(personas.investigator, "record")
    return personas.investigator


@pytest.fixture
def import_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.KEEL_IMPORT_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


# A valid file ---------------------------------------------------------------------------------------------


def test_a_valid_file_stores_every_row_and_rollups_equal_a_full_rebuild(person, personas):
    choose(personas.teammate, "record")
    exposure_record_create(
        person=personas.teammate,
        data=RecordInput(kind="day", date=midday(3).date(), minutes=30, media_type="text", severity="B"),
        source="web",
        now=timezone.now(),
    )
    exposure_record_create(
        person=person,
        data=RecordInput(
            kind="session",
            started_at=midday(2) - timedelta(hours=3),
            ended_at=midday(2) - timedelta(hours=2),
            media_type="still",
            severity="C",
        ),
        source="web",
        now=timezone.now(),
    )
    rows = [
        session(midday(2)),
        session(midday(2) + timedelta(hours=2), 45, media_type="live", unexpected="yes", safeguards="muted;blur"),
        session(midday(40), 30, media_type="audio", severity="other", got_to_me="1", items="12"),
        day_entry(midday(2).date(), 30),
        day_entry(midday(400).date(), 120, severity="B", audio="TRUE"),  # older than a year: the import's job
    ]
    job = run(person, csv_text(rows))
    assert job.state == "done" and job.stored_rows == 5 and job.processed_rows == 5 and job.error_count == 0
    imported = ExposureRecord.objects.filter(person=person, source="import")
    assert imported.count() == 5
    assert all(r.public_id.version == 4 for r in imported) and len({r.public_id for r in imported}) == 5
    incremental = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == incremental
    assert ImportStagingRow.objects.count() == 0
    entry = AuditEntry.objects.get(action="exposure.import.completed")
    assert entry.subject_id == person.public_id and entry.object_ref == str(job.public_id)
    assert "records=5" in entry.purpose


def test_imported_records_equal_those_the_logging_service_writes(person, personas):
    """Dose, local day, period starts and team come out exactly as for a record logged by hand."""
    choose(personas.teammate, "record")
    start = midday(5).replace(hour=23, minute=30)  # after midnight in London in summer: the local day matters
    run(person, csv_text([session(start, 50, media_type="live", unexpected="true", safeguards="blur")]))
    imported = ExposureRecord.objects.get(person=person)
    logged = exposure_record_create(
        person=personas.teammate,
        data=RecordInput(
            kind="session",
            started_at=start,
            ended_at=start + timedelta(minutes=50),
            media_type="live",
            severity="A",
            audio=True,
            unexpected=True,
            safeguards=("blur",),
        ),
        source="web",
        now=timezone.now(),
    )
    for name in (
        "local_date",
        "week_start",
        "month_start",
        "quarter_start",
        "seconds",
        "dose_milli",
        "weights_version",
    ):
        assert getattr(imported, name) == getattr(logged, name), name
    assert imported.safeguards == ["blur"] and imported.team == personas.team and imported.unit == personas.unit
    assert imported.local_date == start.astimezone(organisation_tz()).date()


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out(person):
    columns = ["severity", "media_type", "minutes", "date", "kind"]
    job = run(person, csv_text([day_entry(midday(1).date(), 60)], columns))
    record = ExposureRecord.objects.get(person=person)
    assert job.stored_rows == 1 and record.seconds == 3600 and not record.audio and record.safeguards == []


def test_a_byte_order_mark_and_blank_lines_are_ignored(person, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(csv_text([day_entry(midday(1).date())]) + "\n\n", encoding="utf-8-sig")
    with imports.text_stream(path) as stream:
        job = exposure_import(person=person, stream=stream, now=timezone.now())
    assert job.stored_rows == 1


def test_recent_imported_records_run_the_exposure_rules_and_old_history_does_not(person):
    recent, old = midday(1).date(), midday(60).date()
    run(person, csv_text([day_entry(recent, 300), day_entry(old, 300), session(midday(90), 20, got_to_me="yes")]))
    fired = set(Notification.objects.filter(recipient=person).values_list("dedup_key", flat=True))
    assert any(key.startswith(f"exposure.daily_limit:{person.public_id}:{recent.isoformat()}") for key in fired)
    assert not any(old.isoformat() in key for key in fired)
    assert not any(key.startswith("exposure.follow_up") for key in fired)


# Rejections -----------------------------------------------------------------------------------------------


def test_one_bad_row_stores_nothing_and_names_its_line_and_field(person):
    rows = [session(midday(3)), session(midday(2), media_type="hologram"), day_entry(midday(1).date())]
    error = rejected(person, csv_text(rows))
    assert [(p.line, p.field) for p in error.problems] == [(3, "media_type")]
    assert "Unknown media type" in error.problems[0].message
    assert ExposureRecord.objects.count() == 0 and DayRollup.objects.count() == 0
    assert ImportStagingRow.objects.count() == 0
    job = ImportJob.objects.get()
    assert job.state == "failed" and job.error_count == 1
    assert job.errors == [{"line": 3, "field": "media_type", "message": error.problems[0].message}]


def _future() -> datetime:
    return timezone.now().astimezone(UTC).replace(microsecond=0) + timedelta(hours=2)


RULES: list[tuple[str, Any, str, str]] = [
    ("bad kind", lambda: session(midday(1), kind="shift"), "kind", "Use session or day"),
    ("missing start", lambda: session(midday(1), started_at=""), "started_at", "needs a start"),
    ("missing end", lambda: session(midday(1), ended_at=""), "ended_at", "needs an end"),
    ("unreadable start", lambda: session(midday(1), started_at="yesterday 9am"), "started_at", "Not a date and time"),
    ("unreadable end", lambda: session(midday(1), ended_at="2026-13-45T10:00:00Z"), "ended_at", "Not a date and time"),
    ("naive start", lambda: session(midday(1), started_at="2025-01-02T09:00:00"), "started_at", "with its offset"),
    (
        "naive end",
        lambda: session(midday(1), ended_at=midday(1).replace(tzinfo=None).isoformat()),
        "ended_at",
        "offset",
    ),
    ("end before start", lambda: session(midday(1), -30), "ended_at", "after the start"),
    ("end equals start", lambda: session(midday(1), 0), "ended_at", "after the start"),
    ("start in the future", lambda: session(_future()), "started_at", "in the future"),
    ("end in the future", lambda: session(_future() - timedelta(hours=3), 120), "ended_at", "in the future"),
    ("longer than 16 hours", lambda: session(midday(3), 16 * 60 + 1), "ended_at", "at most 16 hours"),
    ("session with minutes", lambda: session(midday(1), minutes="30"), "date", "leave date and minutes empty"),
    ("day with a start", lambda: day_entry(midday(1).date(), started_at=midday(1).isoformat()), "started_at", "leave"),
    ("day without date", lambda: day_entry(midday(1).date(), date=""), "date", "needs a date"),
    ("unreadable date", lambda: day_entry(midday(1).date(), date="31/12/2025"), "date", "Not a date"),
    ("day in the future", lambda: day_entry(timezone.now().date() + timedelta(days=2)), "date", "in the future"),
    ("day without minutes", lambda: day_entry(midday(1).date(), minutes=""), "minutes", "needs minutes"),
    ("minutes not a number", lambda: day_entry(midday(1).date(), minutes="1.5"), "minutes", "whole number"),
    ("negative minutes", lambda: day_entry(midday(1).date(), minutes="-5"), "minutes", "whole number"),
    ("zero minutes", lambda: day_entry(midday(1).date(), 0), "minutes", "between 1 and 960"),
    ("too many minutes", lambda: day_entry(midday(1).date(), 961), "minutes", "between 1 and 960"),
    ("unknown media", lambda: session(midday(1), media_type="Video"), "media_type", "Unknown media type"),
    ("unknown severity", lambda: session(midday(1), severity="Z"), "severity", "Unknown severity"),
    ("unknown safeguard", lambda: session(midday(1), safeguards="blur;sepia"), "safeguards", "Unknown safeguards"),
    ("bad boolean", lambda: session(midday(1), audio="maybe"), "audio", "true or false"),
    ("bad unexpected", lambda: session(midday(1), unexpected="2"), "unexpected", "true or false"),
    ("bad got_to_me", lambda: session(midday(1), got_to_me="y"), "got_to_me", "true or false"),
    ("items not a number", lambda: session(midday(1), items="lots"), "items", "whole number"),
    ("too many items", lambda: session(midday(1), items="100001"), "items", "between 0 and 100,000"),
]


@pytest.mark.parametrize(("row", "field", "message"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_rule_rejects_the_row_with_its_field(person, row, field, message):
    error = rejected(person, csv_text([day_entry(midday(5).date()), row()]))
    assert any(p.line == 3 and p.field == field and message in p.message for p in error.problems), error.problems
    assert all(p.line == 3 for p in error.problems), error.problems
    assert ExposureRecord.objects.count() == 0


def test_an_inactive_severity_is_unknown(person):
    SeverityCategory.objects.filter(code="B").update(active=False)
    error = rejected(person, csv_text([session(midday(1), severity="B")]))
    assert [p.field for p in error.problems] == ["severity"]


def test_a_row_with_the_wrong_number_of_fields_is_named(person):
    text = csv_text([day_entry(midday(2).date())]) + "day,,,2025-01-01\n"
    error = rejected(person, text)
    assert [(p.line, p.field) for p in error.problems] == [(3, "row")]


def test_every_bad_row_is_reported_up_to_a_cap_with_the_full_count(person):
    rows = [day_entry(midday(1 + i % 300).date(), 1, severity="Z") for i in range(imports.MAX_REPORTED + 200)]
    error = rejected(person, csv_text(rows))
    assert error.count == imports.MAX_REPORTED + 200 and len(error.problems) == imports.MAX_REPORTED
    assert [p.line for p in error.problems[:3]] == [2, 3, 4]
    job = ImportJob.objects.get()
    assert job.error_count == imports.MAX_REPORTED + 200 and len(job.errors) == imports.MAX_REPORTED


def test_sessions_overlapping_inside_the_file_are_rejected(person):
    long = session(midday(3), 240)  # 12:00-16:00
    inside = session(midday(3) + timedelta(hours=3), 30)  # 15:00-15:30, after a session that ends before it
    between = session(midday(3) + timedelta(hours=1), 30)  # 13:00-13:30
    error = rejected(person, csv_text([long, between, inside, session(midday(3) + timedelta(hours=5))]))
    assert {(p.line, p.field) for p in error.problems} == {(3, "started_at"), (4, "started_at")}
    assert all("another session in the file" in p.message for p in error.problems)


def test_sessions_that_only_touch_do_not_overlap(person):
    job = run(person, csv_text([session(midday(3), 60), session(midday(3) + timedelta(hours=1), 60)]))
    assert job.stored_rows == 2


def test_a_session_overlapping_one_already_logged_is_rejected(person):
    exposure_record_create(
        person=person,
        data=RecordInput(
            kind="session",
            started_at=midday(2),
            ended_at=midday(2) + timedelta(hours=2),
            media_type="still",
            severity="C",
        ),
        source="web",
        now=timezone.now(),
    )
    before = session(midday(2) - timedelta(minutes=30), 45)  # starts before the stored one, ends inside it
    around = session(midday(2) - timedelta(hours=1), 240)  # contains it
    clear = session(midday(2) + timedelta(hours=2), 30)
    error = rejected(person, csv_text([clear, before, around]))
    lines = {(p.line, p.message) for p in error.problems if "already logged" in p.message}
    assert {line for line, _ in lines} == {3, 4}
    assert ExposureRecord.objects.count() == 1


def test_another_persons_sessions_do_not_count_as_overlaps(person, personas):
    choose(personas.teammate, "record")
    exposure_record_create(
        person=personas.teammate,
        data=RecordInput(
            kind="session",
            started_at=midday(2),
            ended_at=midday(2) + timedelta(hours=2),
            media_type="still",
            severity="C",
        ),
        source="web",
        now=timezone.now(),
    )
    assert run(person, csv_text([session(midday(2))])).stored_rows == 1


def test_a_day_over_16_hours_across_the_file_and_what_is_logged_is_rejected(person):
    on = midday(4).date()
    exposure_record_create(
        person=person,
        data=RecordInput(kind="day", date=on, minutes=600, media_type="still", severity="C"),
        source="web",
        now=timezone.now(),
    )
    rows = [day_entry(on, 300), session(midday(4) - timedelta(hours=4), 61), day_entry(midday(5).date(), 900)]
    error = rejected(person, csv_text(rows))
    assert {(p.line, p.field) for p in error.problems} == {(2, "minutes"), (3, "ended_at")}
    assert all("16.0 hours" in p.message or "at most 16" in p.message for p in error.problems)
    assert ExposureRecord.objects.count() == 1


def test_a_day_of_exactly_16_hours_is_accepted(person):
    on = midday(4).date()
    assert run(person, csv_text([day_entry(on, 900), day_entry(on, 60)])).stored_rows == 2


def test_unknown_duplicate_and_missing_columns_are_rejected_before_any_row(person):
    error = rejected(person, "kind,media_type,severity,case_reference\nday,still,C,OP-123\n")
    assert [(p.line, p.field) for p in error.problems] == [(1, "case_reference")]
    assert "Unknown column" in error.problems[0].message
    error = rejected(person, "kind,kind,media_type,severity\n")
    assert [(p.line, p.field) for p in error.problems] == [(1, "kind")]
    error = rejected(person, "kind,date,minutes\nday,2025-01-01,10\n")
    assert {p.field for p in error.problems} == {"media_type", "severity"}
    assert ImportStagingRow.objects.count() == 0


def test_an_empty_file_and_a_header_without_rows_are_rejected(person):
    assert rejected(person, "").problems[0].field == "file"
    assert "no rows" in rejected(person, ",".join(COLUMNS) + "\n").problems[0].message


def test_a_file_that_is_not_utf8_stops_with_a_line_and_stores_nothing(person, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 300)  # the bad bytes arrive in the middle of a later chunk
    path = tmp_path / "latin1.csv"
    rows = [day_entry(midday(1 + d % 300).date(), 1) for d in range(1000)]  # more than one decoded block
    path.write_bytes(csv_text(rows).encode() + "day,,,2025-01-01,10,still,C,,,,,caf\xe9\n".encode("latin-1"))
    with imports.text_stream(path) as stream, pytest.raises(ImportRejected) as caught:
        exposure_import(person=person, stream=stream, now=timezone.now())
    assert [(p.line, p.field) for p in caught.value.problems] == [(None, "file")]
    assert "not UTF-8 text (somewhere after line" in caught.value.problems[0].message
    assert ExposureRecord.objects.count() == 0 and ImportStagingRow.objects.count() == 0
    assert ImportJob.objects.get().state == "failed"


def test_a_line_that_is_not_csv_stops_with_its_number(person):
    text = csv_text([day_entry(midday(1).date())]) + 'day,,,"2025-01-01"x,10,still,C,,,,,\n'
    error = rejected(person, text)
    assert [(p.line, p.field) for p in error.problems] == [(3, "file")]
    assert ImportStagingRow.objects.count() == 0


def test_values_from_the_file_never_appear_in_the_messages(person):
    error = rejected(person, csv_text([session(midday(1), media_type="OP-SECRET-123", severity="Case 42")]))
    assert not any("SECRET" in p.message or "Case 42" in p.message for p in error.problems)


def test_a_person_without_the_record_choice_is_refused_and_nothing_is_kept(personas):
    with pytest.raises(NotPermitted):
        run(personas.investigator, csv_text([day_entry(midday(1).date())]))
    assert ExposureRecord.objects.count() == 0 and ImportJob.objects.count() == 0


def test_progress_is_committed_in_chunks_as_the_file_is_read(person, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    seen: list[tuple[int, str]] = []

    def progress(rows: int) -> None:
        job = ImportJob.objects.get()
        seen.append((job.processed_rows, job.phase))

    rows = [day_entry(midday(d).date(), 30) for d in range(1, 6)]
    job = run(person, csv_text(rows), progress=progress)
    assert seen == [(2, "reading"), (4, "reading"), (5, "reading")]
    assert job.total_rows == 5 and job.stored_rows == 5


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_another_connection_while_the_import_runs(reference_data, personas, monkeypatch):
    """What a status page in another process sees: committed counts, read over a second connection."""
    choose(personas.investigator, "record")
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    other = connections.create_connection("default")
    seen: list[int] = []

    def progress(rows: int) -> None:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT processed_rows FROM {ImportJob._meta.db_table}")  # noqa: S608 - a model's table
            seen.append(cursor.fetchone()[0])

    try:
        run(personas.investigator, csv_text([day_entry(midday(d).date(), 30) for d in range(1, 6)]), progress=progress)
    finally:
        other.close()
    assert seen == [2, 4, 5]


# The command ----------------------------------------------------------------------------------------------


def test_the_command_imports_a_file_and_prints_a_summary(person, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(csv_text([session(midday(2)), day_entry(midday(3).date())]))
    out = io.StringIO()
    call_command("import_exposure", str(path), "--person", person.username, "--no-progress", stdout=out)
    assert "Imported 2 records for investigator from rows.csv" in out.getvalue()
    assert ExposureRecord.objects.filter(person=person).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_with_the_row_errors_when_the_file_is_rejected(reference_data, personas, tmp_path):
    choose(personas.investigator, "record")
    path = tmp_path / "rows.csv"
    path.write_text(csv_text([session(midday(2)), session(midday(2), severity="Z")]))
    env = {**os.environ, "DATABASE_URL": _database_url(), "KEEL_VAR_DIR": str(settings.VAR_DIR)}
    done = subprocess.run(
        [sys.executable, "manage.py", "import_exposure", str(path), "--person", "investigator", "--no-progress"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "line 3, severity: Unknown severity" in done.stderr
    assert "line 3, started_at: This overlaps another session in the file." in done.stderr
    assert "Rejected: 2 problem(s). Nothing was stored." in done.stderr
    assert ExposureRecord.objects.count() == 0


def test_the_command_refuses_a_person_without_the_record_choice(personas, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(csv_text([day_entry(midday(2).date())]))
    with pytest.raises(CommandError, match="record") as caught:
        call_command("import_exposure", str(path), "--person", personas.teammate.username, "--no-progress")
    assert caught.value.returncode == 1


# The API and the task -------------------------------------------------------------------------------------


def upload(client: Any, text: str, name: str = "export.csv", **headers: Any) -> Any:
    file = io.BytesIO(text.encode())
    file.name = name
    return client.post(IMPORTS, {"file": file}, format="multipart", **headers)


@pytest.fixture
def eager(monkeypatch):  # type: ignore[no-untyped-def]
    """The task runs in this process when the view's transaction commits, as a worker would run it."""
    calls: list[tuple[str, str]] = []

    def delay(job_id: str, path: str) -> None:
        calls.append((job_id, path))
        run_import(job_id, path)

    monkeypatch.setattr(import_api.run_import, "delay", delay)
    return calls


def test_an_upload_is_imported_by_the_task_and_its_status_shows_done(
    api, person, import_dir, eager, django_capture_on_commit_callbacks
):
    client = api.as_(person)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, csv_text([session(midday(2)), day_entry(midday(3).date())]))
    assert response.status_code == 202, response.content
    assert len(callbacks) == 1 and len(eager) == 1
    job_id = response.json()["id"]
    assert response["Location"].endswith(f"/imports/{job_id}/")
    status = client.get(f"{IMPORTS}{job_id}/").json()
    assert status["state"] == "done" and status["total"] == 2 and status["processed"] == 2 and status["stored"] == 2
    assert status["error_count"] == 0 and status["errors"] == []
    assert ExposureRecord.objects.filter(person=person, source="import").count() == 2
    assert list(import_dir.iterdir()) == []  # the upload is gone once imported


def test_a_rejected_upload_reports_its_rows_on_the_status(
    api, person, import_dir, eager, django_capture_on_commit_callbacks
):
    client = api.as_(person)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, csv_text([session(midday(2), items="many")]))
    status = client.get(f"{IMPORTS}{response.json()['id']}/").json()
    assert status["state"] == "failed" and status["error_count"] == 1
    assert status["errors"] == [{"line": 2, "field": "items", "message": "The item count is a whole number."}]
    assert ExposureRecord.objects.count() == 0 and list(import_dir.iterdir()) == []


def test_a_worker_process_knows_the_import_task():
    """Celery's autodiscovery imports backend.exposure.tasks, not import_tasks: checked in a fresh process,
    as a worker starts, because this one has imported everything already."""
    code = (
        "import django; django.setup()\n"
        "from backend.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print('backend.exposure.import_tasks.run_import' in app.tasks)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().endswith("True"), done.stdout + done.stderr


def test_the_task_run_twice_stores_the_file_once(
    api, person, import_dir, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(import_api.run_import, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        upload(api.as_(person), csv_text([session(midday(2))]))
    job_id, path = queued[0]
    assert run_import(job_id, path) == "done"
    assert run_import(job_id, path) == "done"
    assert ExposureRecord.objects.count() == 1 and ImportJob.objects.get().attempts == 1


def test_a_delivery_that_was_taken_over_stores_nothing(person, monkeypatch):
    """Two deliveries of one job: the first to start has its staging rows replaced, so it must not store."""
    job = imports.import_job_create(person=person, now=timezone.now())
    text = csv_text([day_entry(midday(2).date())])
    real_claim = imports._claim

    def claim_then_lose(job_: ImportJob, run_: int, now: datetime) -> bool:
        claimed = real_claim(job_, run_, now)
        ImportJob.objects.filter(pk=job_.pk).update(run=run_ + 1)  # a newer delivery claimed it meanwhile
        return claimed

    monkeypatch.setattr(imports, "_claim", claim_then_lose)
    result = exposure_import(person=person, stream=io.StringIO(text), now=timezone.now(), job=job)
    assert result.state == "running" and ExposureRecord.objects.count() == 0


def test_a_job_delivered_too_often_is_failed_and_its_leftovers_removed(person):
    job = imports.import_job_create(person=person, now=timezone.now())
    ImportJob.objects.filter(pk=job.pk).update(state="running", attempts=imports.MAX_ATTEMPTS, run=99)
    ImportStagingRow.objects.create(run=99, line=2, kind="day", media_type="still", severity="C", safeguards="[]")
    result = exposure_import(
        person=person, stream=io.StringIO(csv_text([day_entry(midday(2).date())])), now=timezone.now(), job=job
    )
    assert result.state == "failed" and "several attempts" in result.errors[0]["message"]
    assert ImportStagingRow.objects.count() == 0 and ExposureRecord.objects.count() == 0


def test_another_person_cannot_read_the_job(
    api, person, personas, import_dir, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(api.as_(person), csv_text([session(midday(2))])).json()["id"]
    for other in (personas.teammate, personas.manager, personas.welfare_officer, personas.admin):
        assert api.as_(other).get(f"{IMPORTS}{job_id}/").status_code == 404
    assert api.get(f"{IMPORTS}{job_id}/").status_code == 401


def test_a_token_with_exposure_write_may_upload_and_follow_its_import(
    api, person, import_dir, eager, django_capture_on_commit_callbacks
):
    _, key = token_create(person=person, name="grading tool", scopes=["exposure:write"], now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api, csv_text([session(midday(2))]), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 202
    status = api.get(f"{IMPORTS}{response.json()['id']}/", HTTP_AUTHORIZATION=f"Token {key}")
    assert status.status_code == 200 and status.json()["state"] == "done"
    assert ExposureRecord.objects.get().source == "import"


def test_a_token_without_exposure_write_is_refused(api, person, import_dir):
    _, key = token_create(person=person, name="profile", scopes=["profile:read"], now=timezone.now())
    assert upload(api, csv_text([session(midday(2))]), HTTP_AUTHORIZATION=f"Token {key}").status_code == 403


def test_an_upload_without_the_record_choice_is_refused(api, personas, import_dir):
    assert upload(api.as_(personas.teammate), csv_text([session(midday(2))])).status_code == 403
    assert ImportJob.objects.count() == 0


def test_an_upload_without_a_file_is_a_400(api, person, import_dir):
    response = api.as_(person).post(IMPORTS, {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["errors"]


def test_an_upload_over_the_size_limit_is_refused(api, person, import_dir, settings):
    settings.KEEL_IMPORT_MAX_BYTES = 200
    client = api.as_(person)
    assert upload(client, csv_text([session(midday(d)) for d in range(1, 20)])).status_code == 413  # while read
    assert upload(client, csv_text([session(midday(d)) for d in range(1, 800)])).status_code == 413  # by its length
    assert ImportJob.objects.count() == 0 and not [p for p in import_dir.iterdir() if p.is_file()]


def test_the_clients_file_name_never_reaches_the_path(
    api, person, import_dir, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(import_api.run_import, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api.as_(person), csv_text([session(midday(2))]), name="../../../../etc/cron.d/x.csv")
    assert response.status_code == 202
    job_id, path = queued[0]
    assert Path(path) == import_dir / f"{job_id}.csv"
    assert sorted(p.name for p in import_dir.iterdir()) == [f"{job_id}.csv"]


def test_the_task_refuses_a_path_other_than_its_jobs(
    api, person, import_dir, monkeypatch, django_capture_on_commit_callbacks, tmp_path
):
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(import_api.run_import, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        upload(api.as_(person), csv_text([session(midday(2))]))
    job_id, _ = queued[0]
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(csv_text([session(midday(3))]))
    assert run_import(job_id, str(elsewhere)) == "failed"
    assert ExposureRecord.objects.count() == 0 and elsewhere.exists()


# Personal data --------------------------------------------------------------------------------------------


def test_a_persons_imports_are_exported_and_erased_with_their_files(person, import_dir):
    rejected(person, csv_text([session(midday(2), severity="Z")]))
    waiting = imports.import_job_create(person=person, now=timezone.now())
    import_dir.mkdir(parents=True, exist_ok=True)
    imports.import_file_path(waiting).write_text("kind\n")
    exported = imports.import_jobs_export(person)
    assert {job["state"] for job in exported} == {"failed", "queued"}
    assert imports.import_jobs_erase(person) == 2
    assert ImportJob.objects.count() == 0 and not imports.import_file_path(waiting).exists()


def test_finished_imports_are_kept_for_the_retention_period_only(person):
    rejected(person, csv_text([session(midday(2), severity="Z")]))
    running = imports.import_job_create(person=person, now=timezone.now() - timedelta(days=400))
    later = timezone.now() + timedelta(days=imports.IMPORT_RETENTION_DAYS + 1)
    assert imports.import_jobs_retain(timezone.now()) == 0
    assert imports.import_jobs_retain(later) == 1
    assert list(ImportJob.objects.all()) == [running]


def test_an_import_whose_job_is_erased_meanwhile_stores_nothing(person, monkeypatch):
    real_stage = imports._stage

    def stage_then_erase(**kwargs: Any) -> Any:
        staged = real_stage(**kwargs)
        imports.import_jobs_erase(person)
        return staged

    monkeypatch.setattr(imports, "_stage", stage_then_erase)
    run(person, csv_text([day_entry(midday(2).date())]))
    assert ExposureRecord.objects.count() == 0 and ImportStagingRow.objects.count() == 0


# PostgreSQL -----------------------------------------------------------------------------------------------


def test_the_copy_path_loads_an_unlogged_staging_table_on_postgresql(postgres, person, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 500)
    copies: list[str] = []
    real = imports._write_postgresql

    def counting(rows: Any) -> int:
        written = real(rows)
        copies.append(str(written))
        return written

    monkeypatch.setattr(imports, "_write_postgresql", counting)
    rows = [session(midday(d) + timedelta(minutes=20 * k), 15) for d in range(1, 51) for k in range(24)]
    job = run(person, csv_text(rows))
    assert job.stored_rows == 1200 and copies == ["500", "500", "200"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [ImportStagingRow._meta.db_table])
        assert cursor.fetchone()[0] == "u"
    incremental = rollup_rows()
    rollups.rebuild()
    assert rollup_rows() == incremental
