"""CSV import of exposure records, the logging route for air-gapped review tools (docs/import.md).

The file is streamed, never held in memory: each row is parsed once (times, dates and numbers become typed
values, the local day and weighted exposure are computed with the same functions as every other write) and
loaded into a staging table, by ``COPY`` on PostgreSQL and batched inserts on SQLite. The rules are then
checked in SQL over all rows at once, and only a file with no bad row is stored, with one ``INSERT …
SELECT``, in one transaction with the person locked, together with an exact rebuild of that person's
rollups. Progress lives in the ImportJob row and is committed in chunks while the file is read, before the
import transaction opens, so another process sees it move on SQLite as on PostgreSQL.
"""

import csv
import io
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations, islice, pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from backend.audit import services as audit
from backend.common.errors import NotPermitted
from backend.consent.selectors import require
from backend.exposure import rules
from backend.exposure.models import (
    MAX_SECONDS,
    DayRollup,
    ExposureRecord,
    ImportJob,
    ImportPhase,
    ImportStagingRow,
    ImportState,
    MediaType,
    Period,
    PeriodRollup,
    RecordKind,
    Safeguard,
    SeverityCategory,
    Source,
)
from backend.exposure.periods import local_date, starts
from backend.exposure.services import CLOCK_SKEW, MAX_ITEMS, _context, _lock
from backend.exposure.weighting import Factors, dose_milli
from backend.organisation.models import Membership, Person

COLUMNS = (
    "kind",
    "started_at",
    "ended_at",
    "date",
    "minutes",
    "media_type",
    "severity",
    "audio",
    "unexpected",
    "got_to_me",
    "safeguards",
    "items",
)
REQUIRED_COLUMNS = ("kind", "media_type", "severity")
MAX_REPORTED = 1000  # problems kept and shown; error_count has them all
CHUNK_ROWS = 50_000  # rows per staging transaction, and per progress update
MAX_ATTEMPTS = 3  # deliveries of one job before it is failed for good
IMPORT_RETENTION_DAYS = 90  # finished jobs (their counts and error lists) are then deleted
RULES_WINDOW_DAYS = 7  # imported records this recent are evaluated by the exposure rules (alerts, follow-ups)
DEFAULT_MAX_BYTES = 200 * 1024 * 1024

# Bits in ImportStagingRow.flags: a value present in the file that could not be read as its type.
START_BAD, START_NAIVE, END_BAD, END_NAIVE, DATE_BAD, MINUTES_BAD, ITEMS_BAD, SHAPE_BAD = (1 << i for i in range(8))

_BOOLEANS = {"": False, "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_MAX_DIGITS = 9  # keeps parsed numbers inside a 32-bit column; anything longer is out of range anyway
_CACHE_LIMIT = 4096

# Staging columns in COPY order, with their PostgreSQL types for binary COPY.
_STAGING = (
    ("run", "int8"),
    ("line", "int4"),
    ("flags", "int4"),
    ("kind", "text"),
    ("started_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("day", "date"),
    ("minutes", "int4"),
    ("local_date", "date"),
    ("week_start", "date"),
    ("month_start", "date"),
    ("quarter_start", "date"),
    ("seconds", "int8"),
    ("media_type", "text"),
    ("severity", "text"),
    ("audio", "bool"),
    ("unexpected", "bool"),
    ("got_to_me", "bool"),
    ("safeguards", "text"),
    ("items", "int4"),
    ("dose_milli", "int8"),
    ("team_id", "int8"),
    ("unit_id", "int8"),
)
logger = logging.getLogger(__name__)
_STAGING_TABLE = ImportStagingRow._meta.db_table
_RECORD_TABLE = ExposureRecord._meta.db_table


@dataclass(frozen=True)
class Problem:
    line: int | None
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


class ImportRejected(Exception):
    """The file broke a rule; nothing was stored. ``problems`` holds the first MAX_REPORTED, ``count`` all."""

    def __init__(self, problems: list[Problem], count: int | None = None) -> None:
        self.problems = problems
        self.count = count if count is not None else len(problems)
        super().__init__(f"{self.count} problem(s); nothing was stored")


# Reading ----------------------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(getattr(settings, "KEEL_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def import_dir() -> Path:
    """Where uploads wait for the worker: web and worker must share it (a volume in docker/compose.yml)."""
    return Path(getattr(settings, "KEEL_IMPORT_DIR", Path(settings.VAR_DIR) / "imports"))


def import_file_path(job: ImportJob) -> Path:
    """Named after the job's random id only: nothing from the client reaches the path."""
    return import_dir() / f"{job.public_id}.csv"


def count_rows(path: Path) -> int:
    """Lines after the header, counted in bytes: an estimate for the progress bar until reading ends."""
    lines = 0
    last = b"\n"
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(lines - (last == b"\n"), 0)


def _columns(header: list[str]) -> list[str]:
    names = [name.strip().lstrip("\ufeff") for name in header]
    problems = [
        Problem(1, name or f"column {index}", f"Unknown column; the columns are {', '.join(COLUMNS)}.")
        for index, name in enumerate(names, 1)
        if name not in COLUMNS
    ]
    problems += [
        Problem(1, name, "This column appears twice.") for name in sorted({n for n in names if names.count(n) > 1})
    ]
    problems += [Problem(1, name, "This column is required.") for name in REQUIRED_COLUMNS if name not in names]
    if problems:
        raise ImportRejected(problems)
    return names


def _safeguards_json(raw: str, cache: dict[str, str]) -> str:
    """The record's JSON for a cell: named safeguards, sorted, each once. Whether they exist is SQL's call."""
    found = cache.get(raw)
    if found is None:
        found = json.dumps(sorted({part.strip() for part in raw.split(";") if part.strip()}))
        if len(cache) < _CACHE_LIMIT:
            cache[raw] = found
    return found


def _number(raw: str) -> int | None:
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS:
        return int(raw)
    raise ValueError(raw)


def _moment(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return datetime.fromisoformat(raw.strip())


class _Parser:
    """Turns each CSV row into a staging row. It judges nothing: what it cannot read it leaves empty and notes
    in ``flags``, and the checks in SQL say what is wrong."""

    def __init__(self, *, person: Person, run: int, now: datetime) -> None:
        ctx = _context(now)
        self.run = run
        self.tz = ctx.tz
        self.weights_version = ctx.weights.version
        self.factors = {
            (media, severity): Factors(
                media_milli=ctx.weights.media_milli(media),
                severity_milli=severity_milli,
                audio_on_milli=ctx.weights.audio_on_milli,
                unexpected_milli=ctx.weights.unexpected_milli,
            )
            for media in MediaType.values
            for severity, severity_milli in ctx.factors_by_severity.items()
        }
        # The same rule as services._team_on (first membership by start covering the day), read once.
        self.memberships = list(
            Membership.objects.filter(person=person)
            .order_by("started_on", "pk")
            .values_list("started_on", "ended_on", "team_id", "team__unit_id")
        )
        self.days: dict[date, tuple[date, date, date, int | None, int | None]] = {}
        self.safeguards: dict[str, str] = {}

    def _day(self, day: date) -> tuple[date, date, date, int | None, int | None]:
        found = self.days.get(day)
        if found is None:
            team = next(
                ((t, u) for start, end, t, u in self.memberships if start <= day and (end is None or end >= day)),
                (None, None),
            )
            period = starts(day)
            found = (period["week"], period["month"], period["quarter"], *team)
            if len(self.days) >= _CACHE_LIMIT * 16:
                self.days.clear()
            self.days[day] = found
        return found

    def rows(self, reader: Any, names: list[str]) -> Iterator[tuple[Any, ...]]:
        width = len(names)
        position = {name: index for index, name in enumerate(names)}
        # Absent columns read the empty string appended to each row (index ``width``).
        pick = itemgetter(*(position.get(name, width) for name in COLUMNS))
        pad = len(position) < len(COLUMNS)
        booleans = _BOOLEANS
        for row in reader:
            if not row:
                continue  # a blank line
            line = reader.line_num
            if len(row) != width:
                yield self._blank(line, SHAPE_BAD)
                continue
            if pad:
                row.append("")
            kind, start_raw, end_raw, day_raw, minutes_raw, media, severity, audio, unexpected, mine, guards, items = (
                pick(row)
            )
            flags = 0
            started = ended = day = None
            minutes = seconds = items_n = None
            if start_raw:
                try:
                    started = _moment(start_raw)
                    if started.tzinfo is None:
                        started, flags = None, flags | START_NAIVE
                except ValueError:
                    flags |= START_BAD
            if end_raw:
                try:
                    ended = _moment(end_raw)
                    if ended.tzinfo is None:
                        ended, flags = None, flags | END_NAIVE
                except ValueError:
                    flags |= END_BAD
            if day_raw:
                try:
                    day = date.fromisoformat(day_raw.strip())
                except ValueError:
                    flags |= DATE_BAD
            if minutes_raw:
                try:
                    minutes = _number(minutes_raw)
                except ValueError:
                    flags |= MINUTES_BAD
            if items:
                try:
                    items_n = _number(items)
                except ValueError:
                    flags |= ITEMS_BAD
            kind = kind.strip()
            if started is not None:
                on = local_date(started, self.tz)
                if ended is not None:
                    seconds = int((ended - started).total_seconds())
            elif kind == RecordKind.DAY and day is not None:
                on = day
                if minutes is not None:
                    seconds = minutes * 60
            else:
                on = None
            week = month = quarter = team = unit = None
            if on is not None:
                week, month, quarter, team, unit = self._day(on)
            a = booleans.get(audio)
            if a is None:
                a = booleans.get(audio.strip().lower())
            u = booleans.get(unexpected)
            if u is None:
                u = booleans.get(unexpected.strip().lower())
            g = booleans.get(mine)
            if g is None:
                g = booleans.get(mine.strip().lower())
            media, severity = media.strip(), severity.strip()
            dose = 0
            factors = self.factors.get((media, severity))
            if factors is not None and seconds is not None and 0 < seconds <= MAX_SECONDS:
                dose = dose_milli(seconds=seconds, media_type=media, audio=bool(a), unexpected=bool(u), factors=factors)
            yield (
                self.run,
                line,
                flags,
                kind,
                started,
                ended,
                day,
                minutes,
                on,
                week,
                month,
                quarter,
                seconds,
                media,
                severity,
                a,
                u,
                g,
                _safeguards_json(guards, self.safeguards),
                items_n,
                dose,
                team,
                unit,
            )

    def _blank(self, line: int, flags: int) -> tuple[Any, ...]:
        empty = (None,) * 9  # started_at … seconds
        return (self.run, line, flags, "", *empty, "", "", False, False, False, "[]", None, 0, None, None)


def _guarded(rows: Iterator[tuple[Any, ...]], reader: Any) -> Iterator[tuple[Any, ...]]:
    """Turns what stops the reading itself (not CSV, not UTF-8) into a rejection naming the line."""
    try:
        yield from rows
    except UnicodeDecodeError as exc:
        # Text is decoded in blocks, so the bad bytes are somewhere after the last row read, not on a known line.
        where = f" (somewhere after line {reader.line_num})" if reader.line_num > 1 else ""
        raise ImportRejected([Problem(None, "file", f"The file is not UTF-8 text{where}.")]) from exc
    except csv.Error as exc:
        raise ImportRejected([Problem(reader.line_num, "file", "This line is not valid CSV.")]) from exc


def _write_postgresql(rows: Iterator[tuple[Any, ...]]) -> int:
    names = ", ".join(name for name, _ in _STAGING)
    written = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {_STAGING_TABLE} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types([kind for _, kind in _STAGING])
        write = copy.write_row
        for row in rows:
            write(row)
            written += 1
    return written


def _write_sqlite(rows: Iterator[tuple[Any, ...]]) -> int:
    names = ", ".join(name for name, _ in _STAGING)
    sql = f"INSERT INTO {_STAGING_TABLE} ({names}) VALUES ({', '.join(['%s'] * len(_STAGING))})"  # noqa: S608 - names from the model
    ops = connection.ops
    datetimes = [i for i, (_, kind) in enumerate(_STAGING) if kind == "timestamptz"]
    dates = [i for i, (_, kind) in enumerate(_STAGING) if kind == "date"]
    written = 0
    with connection.cursor() as cursor:
        while batch := list(islice(rows, 2000)):
            for index, row in enumerate(batch):
                values = list(row)
                for i in datetimes:
                    values[i] = ops.adapt_datetimefield_value(values[i])
                for i in dates:
                    values[i] = ops.adapt_datefield_value(values[i])
                batch[index] = tuple(values)
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def _stage(
    *, job: ImportJob, stream: TextIO, parser: _Parser, progress: Callable[[int], object] | None
) -> tuple[int, list[str]]:
    """Loads the file into staging in chunks, each committed with the job's progress."""
    reader = csv.reader(stream, skipinitialspace=True, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected([Problem(1, "file", "The file is empty; its first line names the columns.")]) from None
    except UnicodeDecodeError as exc:
        raise ImportRejected([Problem(None, "file", "The file is not UTF-8 text.")]) from exc
    except csv.Error as exc:
        raise ImportRejected([Problem(1, "file", "This line is not valid CSV.")]) from exc
    names = _columns(header)
    rows = _guarded(parser.rows(reader, names), reader)
    write = _write_postgresql if connection.vendor == "postgresql" else _write_sqlite
    staged = 0
    while True:
        with transaction.atomic():
            written = write(islice(rows, CHUNK_ROWS))
            staged += written
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=staged)
        if progress is not None and written:
            progress(written)
        if written < CHUNK_ROWS:
            break
    if staged == 0:
        raise ImportRejected([Problem(2, "file", "The file has no rows after the header.")])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_STAGING_TABLE}")  # fresh rows: give the planner their numbers
    return staged, names


# Checking, in SQL -------------------------------------------------------------------------------------

_SESSION = "s.kind = 'session'"
_DAY = "s.kind = 'day'"


def _valid_safeguards() -> list[str]:
    values = sorted(Safeguard.values)
    return [json.dumps(sorted(c)) for size in range(len(values) + 1) for c in combinations(values, size)]


def _row_checks(severity_codes: list[str]) -> list[tuple[str, str, str]]:
    """(field, message, condition on staging row s and severity sc) — every rule that reads one row."""
    media = ", ".join(MediaType.values)
    when_times = "Give the time with its offset, e.g. 2026-11-02T09:00:00+00:00."
    bad_time = "Not a date and time; use ISO 8601 with an offset, e.g. 2026-11-02T09:00:00+00:00."
    boolean = "Use true or false (or 1/0, yes/no); empty means false."
    return [
        ("kind", "Use session or day.", "s.kind NOT IN ('session', 'day')"),
        ("started_at", "A timed session needs a start.", f"{_SESSION} AND s.started_at IS NULL AND (s.flags & 3) = 0"),
        ("started_at", bad_time, f"(s.flags & {START_BAD}) <> 0"),
        ("started_at", when_times, f"(s.flags & {START_NAIVE}) <> 0"),
        ("ended_at", "A timed session needs an end.", f"{_SESSION} AND s.ended_at IS NULL AND (s.flags & 12) = 0"),
        ("ended_at", bad_time, f"(s.flags & {END_BAD}) <> 0"),
        ("ended_at", when_times, f"(s.flags & {END_NAIVE}) <> 0"),
        ("ended_at", "The end must be after the start.", "s.ended_at <= s.started_at"),
        ("ended_at", "The session has no time in it.", "s.ended_at > s.started_at AND s.seconds < 1"),
        ("started_at", "The start is in the future.", f"{_SESSION} AND s.started_at > %(latest)s"),
        (
            "ended_at",
            "The end is in the future.",
            f"{_SESSION} AND s.started_at <= %(latest)s AND s.ended_at > %(latest)s",
        ),
        ("ended_at", "A session can be at most 16 hours long.", f"{_SESSION} AND s.seconds > {MAX_SECONDS}"),
        (
            "date",
            "A timed session has a start and an end; leave date and minutes empty.",
            f"{_SESSION} AND (s.day IS NOT NULL OR s.minutes IS NOT NULL OR (s.flags & {DATE_BAD | MINUTES_BAD}) <> 0)",
        ),
        (
            "started_at",
            "A day entry has a date and minutes; leave started_at and ended_at empty.",
            f"{_DAY} AND (s.started_at IS NOT NULL OR s.ended_at IS NOT NULL OR (s.flags & 15) <> 0)",
        ),
        ("date", "A day entry needs a date.", f"{_DAY} AND s.day IS NULL AND (s.flags & {DATE_BAD}) = 0"),
        ("date", "Not a date; use YYYY-MM-DD.", f"(s.flags & {DATE_BAD}) <> 0"),
        ("date", "The date is in the future.", f"{_DAY} AND s.day > %(today)s"),
        ("minutes", "A day entry needs minutes.", f"{_DAY} AND s.minutes IS NULL AND (s.flags & {MINUTES_BAD}) = 0"),
        ("minutes", "Minutes are a whole number.", f"(s.flags & {MINUTES_BAD}) <> 0"),
        (
            "minutes",
            "Minutes in a day are between 1 and 960 (16 hours).",
            f"{_DAY} AND (s.minutes < 1 OR s.minutes > {MAX_SECONDS // 60})",
        ),
        (
            "media_type",
            f"Unknown media type; use one of {media}.",
            f"s.media_type NOT IN ({', '.join(f'%(media{i})s' for i in range(len(MediaType.values)))})",
        ),
        ("severity", f"Unknown severity; use one of {', '.join(severity_codes)}.", "sc.id IS NULL"),
        (
            "safeguards",
            f"Unknown safeguards; use {', '.join(Safeguard.values)}, separated by semicolons.",
            f"s.safeguards NOT IN ({', '.join(f'%(guard{i})s' for i in range(len(_valid_safeguards())))})",
        ),
        ("audio", boolean, "s.audio IS NULL"),
        ("unexpected", boolean, "s.unexpected IS NULL"),
        ("got_to_me", boolean, "s.got_to_me IS NULL"),
        ("items", "The item count is a whole number.", f"(s.flags & {ITEMS_BAD}) <> 0"),
        (
            "items",
            f"An approximate item count is between 0 and {MAX_ITEMS:,}.",
            f"s.items > {MAX_ITEMS}",
        ),
    ]


def _params(run: int, now: datetime, tz: Any, person: Person) -> dict[str, Any]:
    ops = connection.ops
    params: dict[str, Any] = {
        "run": run,
        "person": person.pk,
        "yes": True,
        "limit": MAX_REPORTED,
        "latest": ops.adapt_datetimefield_value(now + CLOCK_SKEW),
        "today": ops.adapt_datefield_value(local_date(now, tz)),
        "max_seconds": MAX_SECONDS,
    }
    params.update({f"media{i}": value for i, value in enumerate(MediaType.values)})
    params.update({f"guard{i}": value for i, value in enumerate(_valid_safeguards())})
    return params


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _check_rows(params: dict[str, Any]) -> tuple[list[Problem], int]:
    codes = list(
        SeverityCategory.objects.filter(active=True).order_by("position", "code").values_list("code", flat=True)
    )
    checks = [("row", "This row has a different number of fields from the header.", f"(s.flags & {SHAPE_BAD}) <> 0")]
    checks += [(f, m, f"(s.flags & {SHAPE_BAD}) = 0 AND ({c})") for f, m, c in _row_checks(codes)]
    flags = ",\n".join(f"CASE WHEN {c} THEN 1 ELSE 0 END AS e{i}" for i, (_, _, c) in enumerate(checks))
    total = " + ".join(f"e{i}" for i in range(len(checks)))
    rows = _fetch(
        f"SELECT line, {', '.join(f'e{i}' for i in range(len(checks)))}, SUM({total}) OVER () "  # noqa: S608 - built from constants
        f"FROM (SELECT s.line AS line, {flags} FROM {_STAGING_TABLE} s "
        f"LEFT JOIN {SeverityCategory._meta.db_table} sc ON sc.code = s.severity AND sc.active = %(yes)s "
        f"WHERE s.run = %(run)s) t WHERE {total} > 0 ORDER BY line LIMIT %(limit)s",
        params,
    )
    problems = [
        Problem(row[0], field, message)
        for row in rows
        for (field, message, _), hit in zip(checks, row[1:-1], strict=True)
        if hit
    ]
    return problems, int(rows[0][-1]) if rows else 0


def _check_overlaps(params: dict[str, Any]) -> tuple[list[Problem], int]:
    """Sessions in time order, the file's and the person's own: a file session overlaps when an earlier one
    (either kind) ends after it starts, or a stored one starting later starts before it ends."""
    usable = (
        f"s.run = %(run)s AND (s.flags & {SHAPE_BAD}) = 0 AND {_SESSION} "
        "AND s.started_at IS NOT NULL AND s.ended_at > s.started_at"
    )
    rows = _fetch(
        f"""
        WITH spans AS (
            SELECT s.line AS line, s.started_at AS st, s.ended_at AS en, 1 AS from_file
            FROM {_STAGING_TABLE} s WHERE {usable}
            UNION ALL
            SELECT 0, r.started_at, r.ended_at, 0 FROM {_RECORD_TABLE} r
            WHERE r.person_id = %(person)s AND r.kind = 'session'
              AND r.started_at < (SELECT MAX(s.ended_at) FROM {_STAGING_TABLE} s WHERE {usable})
              AND r.ended_at > (SELECT MIN(s.started_at) FROM {_STAGING_TABLE} s WHERE {usable})
        ),
        ordered AS (
            SELECT line, st, en, from_file,
                MAX(CASE WHEN from_file = 1 THEN en END) OVER before_it AS file_end,
                MAX(CASE WHEN from_file = 0 THEN en END) OVER before_it AS kept_end,
                MIN(CASE WHEN from_file = 0 THEN st END) OVER after_it AS kept_start
            FROM spans
            -- Both frames grow from a fixed end, so each is one pass (a frame whose start moves would
            -- recompute MIN for every row): "after" is "before" in the reverse order.
            WINDOW before_it AS (ORDER BY st, from_file, line ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                   after_it AS (
                       ORDER BY st DESC, from_file DESC, line DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
                   )
        ),
        hits AS (
            SELECT line,
                CASE WHEN file_end > st THEN 1 ELSE 0 END AS in_file,
                CASE WHEN kept_end > st OR kept_start < en THEN 1 ELSE 0 END AS with_kept
            FROM ordered WHERE from_file = 1
        )
        SELECT line, in_file, with_kept, SUM(in_file + with_kept) OVER ()
        FROM hits WHERE in_file + with_kept > 0 ORDER BY line LIMIT %(limit)s
        """,  # noqa: S608 - table names from the models, values as parameters
        params,
    )
    problems: list[Problem] = []
    for line, in_file, with_kept, _ in rows:
        if in_file:
            problems.append(Problem(line, "started_at", "This overlaps another session in the file."))
        if with_kept:
            problems.append(Problem(line, "started_at", "This overlaps one of your timed sessions already logged."))
    return problems, int(rows[0][-1]) if rows else 0


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _check_day_totals(params: dict[str, Any]) -> tuple[list[Problem], int]:
    """Every organisation-local day holds at most 16 hours: what is logged already plus the file."""
    usable = (
        f"s.run = %(run)s AND (s.flags & {SHAPE_BAD}) = 0 AND s.kind IN ('session', 'day') "
        "AND s.local_date IS NOT NULL AND s.seconds BETWEEN 1 AND %(max_seconds)s"
    )
    rows = _fetch(
        f"""
        WITH totals AS (
            SELECT local_date AS day, SUM(seconds) AS total FROM (
                SELECT s.local_date AS local_date, s.seconds AS seconds FROM {_STAGING_TABLE} s WHERE {usable}
                UNION ALL
                SELECT r.local_date, r.seconds FROM {_RECORD_TABLE} r
                WHERE r.person_id = %(person)s
                  AND r.local_date >= (SELECT MIN(s.local_date) FROM {_STAGING_TABLE} s WHERE {usable})
                  AND r.local_date <= (SELECT MAX(s.local_date) FROM {_STAGING_TABLE} s WHERE {usable})
            ) logged
            GROUP BY local_date HAVING SUM(seconds) > %(max_seconds)s
        )
        SELECT s.line, s.kind, t.day, t.total, COUNT(*) OVER ()
        FROM {_STAGING_TABLE} s JOIN totals t ON t.day = s.local_date
        WHERE {usable} ORDER BY s.line LIMIT %(limit)s
        """,  # noqa: S608 - table names from the models, values as parameters
        params,
    )
    problems = [
        Problem(
            line,
            "minutes" if kind == RecordKind.DAY else "ended_at",
            f"That makes {round(int(total) / 3600, 1)} hours on {_as_date(day):%d %b %Y}; a day holds at most 16.",
        )
        for line, kind, day, total, _ in rows
    ]
    return problems, int(rows[0][-1]) if rows else 0


def _check(params: dict[str, Any]) -> tuple[list[Problem], int]:
    problems: list[Problem] = []
    count = 0
    for check in (_check_rows, _check_overlaps, _check_day_totals):
        found, total = check(params)
        problems += found
        count += total
    order = {name: index for index, name in enumerate(("row", *COLUMNS))}
    problems.sort(key=lambda p: (p.line or 0, order.get(p.field, len(order))))
    return problems[:MAX_REPORTED], count


# Storing ----------------------------------------------------------------------------------------------


def _insert_records(*, person: Person, run: int, source: str, weights_version: int, now: datetime) -> int:
    if connection.vendor == "postgresql":
        public_id, guards = "gen_random_uuid()", "CAST(s.safeguards AS jsonb)"
    else:  # a version-4 UUID as Django stores it on SQLite: 32 hex digits
        public_id = (
            "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) "
            "|| substr('89ab', 1 + abs(random()) %% 4, 1) || substr(hex(randomblob(8)), 2))"
        )
        guards = "s.safeguards"
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_RECORD_TABLE} (public_id, person_id, kind, team_id, unit_id, local_date, week_start, "  # noqa: S608 - names from the models
            "month_start, quarter_start, started_at, ended_at, seconds, media_type, severity, audio, unexpected, "
            "got_to_me, safeguards, items, dose_milli, weights_version, source, needs_confirmation, created_at, "
            f"updated_at) SELECT {public_id}, %s, s.kind, s.team_id, s.unit_id, s.local_date, s.week_start, "
            "s.month_start, s.quarter_start, s.started_at, s.ended_at, s.seconds, s.media_type, s.severity, s.audio, "
            f"s.unexpected, s.got_to_me, {guards}, s.items, s.dose_milli, %s, %s, %s, %s, %s "
            f"FROM {_STAGING_TABLE} s WHERE s.run = %s",
            [person.pk, weights_version, source, False, stamp, stamp, run],
        )
        return int(cursor.rowcount)


def rebuild_person(person_id: int) -> None:
    """One person's rollups recomputed from their records with the GROUP BY of rollups.rebuild, so they are
    exactly what a full rebuild would give."""
    DayRollup.objects.filter(person_id=person_id).delete()
    PeriodRollup.objects.filter(person_id=person_id).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DayRollup._meta.db_table} "  # noqa: S608 - table names from the models, no input
            "(person_id, team_id, unit_id, day, media_type, severity, seconds, dose_milli, records) "
            "SELECT person_id, team_id, MIN(unit_id), local_date, media_type, severity, SUM(seconds), "
            f"SUM(dose_milli), COUNT(*) FROM {_RECORD_TABLE} WHERE person_id = %s "
            "GROUP BY person_id, team_id, local_date, media_type, severity",
            [person_id],
        )
        for period, field in (
            (Period.WEEK, "week_start"),
            (Period.MONTH, "month_start"),
            (Period.QUARTER, "quarter_start"),
        ):
            cursor.execute(
                f"INSERT INTO {PeriodRollup._meta.db_table} "  # noqa: S608 - table names from the models, no input
                "(person_id, team_id, unit_id, period, period_start, media_type, severity, seconds, dose_milli, "
                f"records) SELECT person_id, team_id, MIN(unit_id), %s, {field}, media_type, severity, SUM(seconds), "
                f"SUM(dose_milli), COUNT(*) FROM {_RECORD_TABLE} WHERE person_id = %s "
                f"GROUP BY person_id, team_id, {field}, media_type, severity",
                [period.value, person_id],
            )


def _evaluate_recent(*, person: Person, source: str, now: datetime, tz: Any) -> None:
    """The exposure rules run for the records of the last RULES_WINDOW_DAYS local days, as for any write, in
    the same transaction. Older history is stored and counted but raises nothing: a backfill of years would
    otherwise book check-ins and send limit alerts for days long past."""
    since = local_date(now, tz) - timedelta(days=RULES_WINDOW_DAYS - 1)
    recent = list(
        ExposureRecord.objects.filter(person=person, source=source, created_at=now, local_date__gte=since).order_by(
            "local_date", "started_at", "pk"
        )
    )
    if recent:
        rules.evaluate_written(person=person, records=recent, now=now)


def _unstage(run: int | None) -> None:
    if run is not None:
        ImportStagingRow.objects.filter(run=run).delete()


def _fail(job: ImportJob, problems: list[Problem], count: int, now: datetime) -> None:
    ImportJob.objects.filter(pk=job.pk).exclude(state=ImportState.DONE).update(
        state=ImportState.FAILED,
        error_count=count,
        errors=[p.as_json() for p in problems[:MAX_REPORTED]],
        finished_at=now,
    )


# The service ------------------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(*, person: Person, now: datetime, source: str = Source.IMPORT) -> ImportJob:
    require(person, "record")
    return ImportJob.objects.create(person=person, source=source, created_at=now)


@transaction.atomic
def import_submit(*, person: Person, upload: Path, now: datetime) -> ImportJob:
    """A queued job and its file, named after the job, in the directory the worker reads. The caller queues
    the task once this has committed."""
    job = import_job_create(person=person, now=now)
    target = import_file_path(job)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.hardlink_to(upload)
    except OSError:  # a file system without hard links: copy
        try:
            with upload.open("rb") as source, target.open("xb") as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
        except BaseException:
            target.unlink(missing_ok=True)  # the job rolls back with it
            raise
    return job


def _claim(job: ImportJob, run: int, now: datetime) -> bool:
    """Starts an attempt; a job already finished, or delivered too often, starts nothing."""
    previous = ImportJob.objects.filter(pk=job.pk).values_list("run", "attempts").first()
    if previous is None:
        return False
    if previous[1] >= MAX_ATTEMPTS:
        _fail(job, [Problem(None, "file", "The import did not finish after several attempts.")], 1, now)
        _unstage(previous[0])
        return False
    claimed = ImportJob.objects.filter(pk=job.pk, state__in=[ImportState.QUEUED, ImportState.RUNNING]).update(
        state=ImportState.RUNNING,
        phase=ImportPhase.READING,
        run=run,
        attempts=F("attempts") + 1,
        processed_rows=0,
        started_at=now,
    )
    if claimed:
        _unstage(previous[0])  # what a crashed attempt left behind
    return bool(claimed)


def exposure_import(
    *,
    person: Person,
    stream: TextIO,
    now: datetime,
    source: str = Source.IMPORT,
    progress: Callable[[int], object] | None = None,
    job: ImportJob | None = None,
    total_rows: int | None = None,
) -> ImportJob:
    """Imports a CSV file of records for ``person``: all rows or none.

    Raises ImportRejected (every bad row named, the job marked failed) or NotPermitted without the
    ``record`` choice. A job that is already done, or that a newer attempt has taken over, is returned
    unchanged, so a task delivered twice stores the file once.
    """
    if job is None:
        job = import_job_create(person=person, now=now, source=source)
    elif job.person_id != person.pk:
        raise ValueError("an import job belongs to the person whose records it imports")
    run = secrets.randbits(62)
    if not _claim(job, run, now):
        job.refresh_from_db()
        return job
    if total_rows is not None:
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total_rows)
    marks = [time.perf_counter()]
    try:
        require(person, "record")
        parser = _Parser(person=person, run=run, now=now)
        staged, _ = _stage(job=job, stream=stream, parser=parser, progress=progress)
        ImportJob.objects.filter(pk=job.pk).update(phase=ImportPhase.CHECKING, total_rows=staged)
        marks.append(time.perf_counter())
        with transaction.atomic():
            current = ImportJob.objects.select_for_update().filter(pk=job.pk).first()
            if current is None or current.state != ImportState.RUNNING or current.run != run:
                # Finished or taken over by another delivery of the same task, or erased with its person.
                return current or job
            require(person, "record")
            _lock(person)
            if ImportStagingRow.objects.filter(run=run).count() != staged:
                raise RuntimeError("staging rows changed under the import")
            problems, count = _check(_params(run, now, parser.tz, person))
            if count:
                raise ImportRejected(problems, count)
            marks.append(time.perf_counter())
            stored = _insert_records(
                person=person, run=run, source=source, weights_version=parser.weights_version, now=now
            )
            marks.append(time.perf_counter())
            rebuild_person(person.pk)
            marks.append(time.perf_counter())
            _evaluate_recent(person=person, source=source, now=now, tz=parser.tz)
            audit.record(
                "exposure.import.completed",
                actor=person,
                subject=person,
                object_ref=str(job.public_id),
                purpose=f"rows={staged} records={stored}",
                now=now,
            )
            ImportJob.objects.filter(pk=job.pk).update(
                state=ImportState.DONE, stored_rows=stored, error_count=0, errors=[], finished_at=now
            )
            marks.append(time.perf_counter())
        marks.append(time.perf_counter())
        phases = dict(
            zip(
                ("reading", "checking", "storing", "rollups", "rules", "commit"),
                (b - a for a, b in pairwise(marks)),
                strict=True,
            )
        )
        logger.info(
            "import %s stored %d records: %s",
            job.public_id,
            stored,
            ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items()),
            extra={"import_phases": phases},
        )
    except ImportRejected as exc:
        _fail(job, exc.problems, exc.count, now)
        raise
    except NotPermitted as exc:
        _fail(job, [Problem(None, "person", str(exc))], 1, now)
        raise
    except Exception:
        _fail(job, [Problem(None, "file", "Something went wrong on our side; nothing was stored.")], 1, now)
        raise
    finally:
        _unstage(run)
    job.refresh_from_db()
    return job


def fail_job(job: ImportJob, problems: list[Problem]) -> None:
    """Marks a job failed for a reason outside the file (the upload went missing, say)."""
    _fail(job, problems, len(problems), timezone.now())


# Reads ------------------------------------------------------------------------------------------------


def import_jobs_of(person: Person) -> QuerySet[ImportJob]:
    """A person's own imports: nobody else's are ever returned."""
    return ImportJob.objects.filter(person=person).order_by("-created_at", "-pk")


def import_job_of(person: Person, public_id: Any) -> ImportJob | None:
    return import_jobs_of(person).filter(public_id=public_id).first()


def job_for_task(public_id: str) -> ImportJob | None:
    """The job a task names, with its person; None when it no longer exists or the id is not one."""
    try:
        return ImportJob.objects.select_related("person").filter(public_id=UUID(public_id)).first()
    except ValueError:
        return None


def job_state(job: ImportJob) -> str | None:
    return ImportJob.objects.filter(pk=job.pk).values_list("state", flat=True).first()


def import_jobs_export(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "id": str(job.public_id),
            "state": job.state,
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at and job.finished_at.isoformat(),
            "rows": job.total_rows,
            "stored": job.stored_rows,
            "error_count": job.error_count,
            "errors": job.errors,
        }
        for job in import_jobs_of(person).iterator()
    ]


def import_jobs_erase(person: Person, now: datetime | None = None) -> int:
    """Erases the person's imports: jobs, rows in staging and files waiting for the worker."""
    jobs = import_jobs_of(person)
    ImportStagingRow.objects.filter(run__in=jobs.exclude(run=None).values("run")).delete()
    for job in jobs:
        import_file_path(job).unlink(missing_ok=True)
    deleted, _ = jobs.delete()
    return deleted


def import_jobs_retain(now: datetime) -> int:
    """Finished imports are kept for IMPORT_RETENTION_DAYS, long enough to see what happened to a file."""
    cutoff = now - timedelta(days=IMPORT_RETENTION_DAYS)
    deleted, _ = ImportJob.objects.filter(
        state__in=[ImportState.DONE, ImportState.FAILED], finished_at__lt=cutoff
    ).delete()
    return deleted


def text_stream(path: Path) -> io.TextIOWrapper:
    """How an import file is opened: UTF-8 with or without a byte-order mark, newlines left to csv."""
    return path.open(encoding="utf-8-sig", newline="")
