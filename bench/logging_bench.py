"""The logging endpoint (POST /api/v1/exposure/sessions/) against a plain DRF create on the same table.

One run, one machine, one ratio: the plain endpoint is the baseline, measured alongside the real one in
interleaved rounds so neither gets the warmer cache or the quieter minute. Run from the project root:

    .venv/bin/python bench/logging_bench.py

It creates its own PostgreSQL database, migrates and seeds it, starts gunicorn (one worker) on a free
loopback port, drives both endpoints with the same load, checks the rollups are exact, writes its
section of docs/benchmarks.md, then stops gunicorn and drops the database, also on Ctrl-C or error.

The worker is gunicorn's sync worker, the one docker/entrypoint.sh runs in production: it serves one
request at a time, so throughput is the inverse of what one request costs, both endpoints are measured the
same way, and no thread scheduling under the GIL blurs the comparison (``--worker-class gthread`` is there
to compare). Client threads use keep-alive connections; the sync worker closes each after its answer, so
both sides pay the same loopback reconnect.
"""

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import math
import os
import platform
import pstats
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_NAME = "keel_bench_logging"
REAL_PATH = "/api/v1/exposure/sessions/"
PLAIN_PATH = "/bench/plain/sessions/"
MARK_OPEN = "<!-- logging-bench -->"
MARK_CLOSE = "<!-- /logging-bench -->"
CLIENTS = 8
SEED_DAYS = 30  # days of synthetic history the seed lays down; the benchmark writes before them
# Nine 10-minute sessions 40 minutes apart from 08:00 UTC: 90 minutes a local day and 630 a week, under the
# default policy's early warnings (80 % of 240 and of 900), as most real days are, so the rules engine runs
# its checks on every write but fires only for the follow-ups asked for with --follow-up-every.
SESSIONS_PER_DAY = 9
SESSION_MINUTES = 10
SESSION_SPACING_MINUTES = 40
ROOM_DAYS = 250  # days each person can fill, moving forward in time, before reaching the seeded history
THROUGHPUT_TARGET_ISSUE = 0.50
THROUGHPUT_TARGET_PRODUCT = 0.70
P99_TARGET = 2.0
SETTINGS_MODULE = "bench.bench_settings"


# --- load ----------------------------------------------------------------------------------------------


@dataclass
class Investigator:
    pk: int
    key: str
    cursor: int = 0  # how many sessions this person has posted (or tried to); the next slot is free


@dataclass
class Taxonomy:
    severities: dict[str, int]
    weights: Any
    tz: Any


@dataclass
class Sample:
    status: int
    seconds: float


@dataclass
class Tally:
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)

    def extend(self, other: "Tally") -> None:
        self.samples += other.samples
        self.wall += other.wall
        self.failures.update(other.failures)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.samples if 200 <= s.status < 300)

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(s.seconds for s in self.samples)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


MEDIA = ["still", "video", "audio", "text"]  # no live stream: under the default policy it books a follow-up


@dataclass(frozen=True)
class Mix:
    first_day: date
    last_day: date
    follow_up_every: int  # one session in this many is marked "this one got to me"; 0 for none


def session_fields(
    who: Investigator, severities: list[str], mix: Mix, *, got_to_me: bool | None = None
) -> dict[str, Any]:
    """The person's next free slot, moving forward in time as real logging does (so the overlap check
    looks back over everything this person logged before), with varied attributes so rollups both create
    and update cells, as a real day of reviewing would."""
    i = who.cursor
    who.cursor += 1
    day = mix.first_day + timedelta(days=i // SESSIONS_PER_DAY)
    if day > mix.last_day:
        raise RuntimeError("a person ran out of free days before the seeded history; raise ROOM_DAYS")
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(
        minutes=SESSION_SPACING_MINUTES * (i % SESSIONS_PER_DAY)
    )
    if got_to_me is None:
        got_to_me = bool(mix.follow_up_every) and (i + who.pk) % mix.follow_up_every == 0
    return {
        "started_at": start,
        "ended_at": start + timedelta(minutes=SESSION_MINUTES),
        "media_type": MEDIA[i % len(MEDIA)],
        "severity": severities[(i // len(MEDIA)) % len(severities)],
        "audio": i % 3 == 0,
        "unexpected": False,
        "got_to_me": got_to_me,
        "safeguards": ["blur"] if i % 4 == 0 else [],
        "items": i % 50,
    }


def real_body(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "started_at": values["started_at"].isoformat(),
        "ended_at": values["ended_at"].isoformat(),
    }


def plain_body(values: dict[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """What the real service would have computed, computed here, so the plain view only saves."""
    from backend.exposure.periods import local_date, starts
    from backend.exposure.weighting import Factors, dose_milli

    seconds = int((values["ended_at"] - values["started_at"]).total_seconds())
    day = local_date(values["started_at"], taxonomy.tz)
    period = starts(day)
    weights = taxonomy.weights
    factors = Factors(
        media_milli=weights.media_milli(values["media_type"]),
        severity_milli=taxonomy.severities[values["severity"]],
        audio_on_milli=weights.audio_on_milli,
        unexpected_milli=weights.unexpected_milli,
    )
    return {
        **real_body(values),
        "kind": "session",
        "local_date": day.isoformat(),
        "week_start": period["week"].isoformat(),
        "month_start": period["month"].isoformat(),
        "quarter_start": period["quarter"].isoformat(),
        "seconds": seconds,
        "dose_milli": dose_milli(
            seconds=seconds,
            media_type=values["media_type"],
            audio=values["audio"],
            unexpected=values["unexpected"],
            factors=factors,
        ),
        "weights_version": weights.version,
    }


def drive(
    *,
    port: int,
    path: str,
    people: list[Investigator],
    seconds: float,
    taxonomy: Taxonomy,
    mix: Mix,
    stop: threading.Event,
) -> Tally:
    """CLIENTS threads, one person each, one keep-alive connection each (reopened if the server closes it),
    posting back to back until the deadline."""
    severities = list(taxonomy.severities)
    per_client: list[Tally] = [Tally() for _ in people]

    def client(who: Investigator, tally: Tally, deadline: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {who.key}", "Content-Type": "application/json"}
        try:
            while not stop.is_set() and time.perf_counter() < deadline:
                values = session_fields(who, severities, mix)
                body = real_body(values) if path == REAL_PATH else plain_body(values, taxonomy)
                payload = json.dumps(body).encode()
                began = time.perf_counter()
                try:
                    conn.request("POST", path, payload, headers)
                    response = conn.getresponse()
                    content = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    tally.samples.append(Sample(0, time.perf_counter() - began))
                    tally.failures[f"connection: {type(exc).__name__}"] += 1
                    conn.close()
                    continue
                tally.samples.append(Sample(response.status, time.perf_counter() - began))
                if not 200 <= response.status < 300:
                    tally.failures[f"{response.status}: {content[:160].decode(errors='replace')}"] += 1
        finally:
            conn.close()

    began = time.perf_counter()
    deadline = began + seconds
    threads = [
        threading.Thread(target=client, args=(who, tally, deadline), daemon=True)
        for who, tally in zip(people, per_client, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
    total = Tally(wall=time.perf_counter() - began)
    for tally in per_client:
        total.samples += tally.samples
        total.failures.update(tally.failures)
    return total


# --- the database ------------------------------------------------------------------------------------


def admin_execute(pg: dict[str, Any], sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **pg) as conn:
        conn.execute(sql)


def database_url(pg: dict[str, Any]) -> str:
    return f"postgres://{pg['user']}@{pg['host']}:{pg['port']}/{DB_NAME}"


def seed(count: int, *, now: datetime) -> list[Investigator]:
    """A seeded organisation; the first ``count`` investigators choose 'record' (through the service,
    for those the seed left without it) and get an exposure:write token each."""
    from backend.consent.models import Channel, ConsentState
    from backend.consent.selectors import notice_current
    from backend.consent.services import choice_set
    from backend.demo.seed import seed_organisation
    from backend.organisation.models import Person, Role, TokenScope
    from backend.organisation.services import token_create

    seed_organisation(
        people=max(2 * count, 60), days=SEED_DAYS, seed=20, today=now.date(), password=secrets.token_urlsafe(24)
    )
    notice = notice_current()
    if notice is None:
        raise RuntimeError("The migrations published no privacy notice; the seed cannot give choices.")
    chosen = list(
        Person.objects.filter(username__startswith="person", role_assignments__role=Role.INVESTIGATOR)
        .order_by("pk")
        .distinct()[:count]
    )
    if len(chosen) < count:
        raise RuntimeError(f"The seed made only {len(chosen)} investigators; asked for {count}.")
    with_record = set(ConsentState.objects.filter(person__in=chosen, record=True).values_list("person_id", flat=True))
    investigators = []
    for person in chosen:
        if person.pk not in with_record:
            choice_set(
                person=person, choice="record", given=True, channel=Channel.API, now=now, notice_version=notice.version
            )
        _, key = token_create(person=person, name="logging bench", scopes=[TokenScope.EXPOSURE_WRITE], now=now, days=1)
        investigators.append(Investigator(pk=person.pk, key=key))
    return investigators


def taxonomy_now() -> Taxonomy:
    from backend.exposure.selectors import organisation_tz, severities, weights_current

    return Taxonomy(
        severities={s.code: s.weight_milli for s in severities()}, weights=weights_current(), tz=organisation_tz()
    )


@dataclass
class RollupCheck:
    added: int
    records: int
    record_seconds: int
    rollup_seconds: int
    exact: bool
    detail: str


def records_of(person_ids: list[int]) -> int:
    from backend.exposure.models import ExposureRecord

    return ExposureRecord.objects.filter(person_id__in=person_ids).count()


def check_rollups(person_ids: list[int], *, before: int, answered: int) -> RollupCheck:
    """Cell by cell: every day, week, month and quarter rollup of these people (seeded history included)
    equals the sum of their records, and the records added are exactly the ones answered 201."""
    from django.db.models import Count, Sum

    from backend.exposure.models import DayRollup, ExposureRecord, PeriodRollup

    records = ExposureRecord.objects.filter(person_id__in=person_ids)
    totals = records.aggregate(n=Count("id"), seconds=Sum("seconds"))
    keys = ["person_id", "team_id", "media_type", "severity"]
    mismatches = []
    for label, model, record_field, extra in (
        ("day", DayRollup, "local_date", {}),
        ("week", PeriodRollup, "week_start", {"period": "week"}),
        ("month", PeriodRollup, "month_start", {"period": "month"}),
        ("quarter", PeriodRollup, "quarter_start", {"period": "quarter"}),
    ):
        cell_field = "day" if model is DayRollup else "period_start"
        from_records = {
            (*(row[k] for k in keys), row[record_field]): (row["s"], row["d"], row["n"])
            for row in records.values(*keys, record_field).annotate(
                s=Sum("seconds"), d=Sum("dose_milli"), n=Count("id")
            )
        }
        from_rollups = {
            (*(row[k] for k in keys), row[cell_field]): (row["seconds"], row["dose_milli"], row["records"])
            for row in model.objects.filter(person_id__in=person_ids, **extra).values(
                *keys, cell_field, "seconds", "dose_milli", "records"
            )
        }
        if from_records != from_rollups:
            differing = len(set(from_records.items()) ^ set(from_rollups.items()))
            mismatches.append(f"{label}: {differing} differing cells")
    rollup_seconds = DayRollup.objects.filter(person_id__in=person_ids).aggregate(s=Sum("seconds"))["s"] or 0
    if rollup_seconds != (totals["seconds"] or 0):
        mismatches.append(f"day rollups hold {rollup_seconds} s, records {totals['seconds']} s")
    added = (totals["n"] or 0) - before
    if added != answered:
        mismatches.append(f"{added} records added, {answered} answered 201")
    return RollupCheck(
        added=added,
        records=totals["n"] or 0,
        record_seconds=totals["seconds"] or 0,
        rollup_seconds=rollup_seconds,
        exact=not mismatches,
        detail="; ".join(mismatches) or "day, week, month and quarter cells match the records cell by cell",
    )


# --- in-process profile --------------------------------------------------------------------------------


@dataclass
class InProcess:
    requests: int
    queries: float
    milliseconds: float
    sql_milliseconds: float
    statements: list[str]


def _shape(sql: str) -> str:
    sql = sql.replace("%s", "?")
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', "sp", sql)
    return sql if len(sql) <= 140 else sql[:137] + "..."


@dataclass(frozen=True)
class Case:
    path: str
    people: list[Investigator]
    got_to_me: bool = False


def in_process(cases: list[Case], taxonomy: Taxonomy, mix: Mix, *, requests: int) -> list[InProcess]:
    """The same requests through Django's test client (middleware, DRF, ORM, no HTTP server), the cases
    taking turns so a busy moment on the machine falls on all of them: statements, time and time inside
    the database driver per request, and the statements of one request with their median times."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    severities = list(taxonomy.severities)
    warm = 3  # the first few fill Django's and DRF's caches
    counts: list[list[int]] = [[] for _ in cases]
    times: list[list[float]] = [[] for _ in cases]
    sql_times: list[list[float]] = [[] for _ in cases]
    statements: list[list[str]] = [[] for _ in cases]
    by_shape: list[dict[str, list[float]]] = [{} for _ in cases]
    waited: list[tuple[str, float]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited.append((sql, time.perf_counter() - began))

    for n in range(requests + warm):
        for index, case in enumerate(cases):
            who = case.people[n % len(case.people)]
            values = session_fields(who, severities, mix, got_to_me=case.got_to_me)
            body = real_body(values) if case.path == REAL_PATH else plain_body(values, taxonomy)
            waited.clear()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
                began = time.perf_counter()
                response = client.post(
                    case.path,
                    json.dumps(body),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Token {who.key}",
                )
                elapsed = time.perf_counter() - began
            if response.status_code != 201:
                raise RuntimeError(
                    f"in-process {case.path} answered {response.status_code}: {response.content[:200]!r}"
                )
            if n < warm:
                continue
            counts[index].append(len(captured.captured_queries))
            times[index].append(elapsed * 1000)
            sql_times[index].append(sum(t for _, t in waited) * 1000)
            for sql, seconds in waited:
                by_shape[index].setdefault(_shape(sql), []).append(seconds)
            statements[index] = [_shape(sql) for sql, _ in waited]

    def with_time(index: int, sql: str) -> str:
        spent = by_shape[index].get(sql)
        return f"[{statistics.median(spent) * 1000:5.2f} ms] {sql}" if spent else f"[   –    ] {sql}"

    return [
        InProcess(
            requests=requests + warm,
            queries=statistics.median(counts[index]),
            milliseconds=statistics.median(times[index]),
            sql_milliseconds=statistics.median(sql_times[index]),
            statements=[with_time(index, sql) for sql in statements[index]],
        )
        for index in range(len(cases))
    ]


STEPS = [
    # (label, module, attribute): each wrapped in turn; times include the statements each one runs
    ("token authentication", "backend.organisation.authentication", "token_authenticate"),
    ("input serializer is_valid (severity codes)", "backend.exposure.api.SessionInputSerializer", "is_valid"),
    ("exposure_record_create, with its COMMIT", "backend.exposure.api", "exposure_record_create"),
    ("  consent require", "backend.exposure.services", "require"),
    ("  person lock", "backend.exposure.services", "_lock"),
    ("  _context: organisation, severities, weights", "backend.exposure.services", "_context"),
    ("  _build: overlap, day total, team, weighting", "backend.exposure.services", "_build"),
    ("    _team_on", "backend.exposure.services", "_team_on"),
    ("  _save: the record", "backend.exposure.services", "_save"),
    ("    rollups.apply: four cells", "backend.exposure.rollups", "apply"),
    ("  rules.evaluate_written", "backend.exposure.rules", "evaluate_written"),
    ("    policy_for_person", "backend.exposure.rules", "policy_for_person"),
    ("    _measure: day and week sums", "backend.exposure.rules", "_measure"),
    ("output serializer", "backend.exposure.api.RecordOutputSerializer", "to_representation"),
]


@dataclass
class Steps:
    whole_ms: float
    rows: list[tuple[str, float, float]]  # label, median ms, median statements

    def render(self, requests: int) -> str:
        lines = [f"Step by step, a quiet real request (median of {requests}; statements without BEGIN/COMMIT):"]
        lines.append(f"  {'whole request, in process':<52} {self.whole_ms:6.2f} ms")
        lines += [f"  {label:<52} {ms:6.2f} ms  {n:4.0f} statements" for label, ms, n in self.rows]
        return "\n".join(lines)


def step_breakdown(people: list[Investigator], taxonomy: Taxonomy, mix: Mix, *, requests: int) -> Steps:
    """Where a quiet real request's time goes, step by step: each step's function is wrapped with a timer
    and a statement counter (no profiler overhead), medians over ``requests`` requests."""
    import importlib

    from django.db import connection
    from django.test import Client

    executed = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed[0] += 1
        return execute(sql, params, many, context)

    spent: dict[str, list[tuple[float, int]]] = {label: [] for label, _, _ in STEPS}
    current: dict[str, list[float]] = {}
    restore = []
    for label, where, name in STEPS:
        module_name, _, class_name = where.rpartition(".")
        owner: Any = (
            getattr(importlib.import_module(module_name), class_name)
            if class_name[:1].isupper()
            else importlib.import_module(where)
        )
        original = getattr(owner, name)

        def wrapped(*a: Any, _original: Any = original, _label: str = label, **k: Any) -> Any:
            began, statements = time.perf_counter(), executed[0]
            try:
                return _original(*a, **k)
            finally:
                current.setdefault(_label, [0.0, 0.0])
                current[_label][0] += time.perf_counter() - began
                current[_label][1] += executed[0] - statements

        setattr(owner, name, wrapped)
        restore.append((owner, name, original))

    client = Client()
    severities = list(taxonomy.severities)
    totals: list[float] = []
    try:
        with connection.execute_wrapper(count):
            for n in range(requests + 3):
                who = people[n % len(people)]
                body = json.dumps(real_body(session_fields(who, severities, mix, got_to_me=False)))
                current.clear()
                began = time.perf_counter()
                response = client.post(
                    REAL_PATH, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {who.key}"
                )
                elapsed = time.perf_counter() - began
                if response.status_code != 201:
                    raise RuntimeError(f"step breakdown answered {response.status_code}: {response.content[:200]!r}")
                if n >= 3:
                    totals.append(elapsed)
                    for label in spent:
                        seconds, statements = current.get(label, [0.0, 0.0])
                        spent[label].append((seconds, int(statements)))
    finally:
        for owner, name, original in restore:
            setattr(owner, name, original)
    return Steps(
        whole_ms=statistics.median(totals) * 1000,
        rows=[
            (label, statistics.median(s for s, _ in samples) * 1000, statistics.median(c for _, c in samples))
            for label, samples in spent.items()
        ],
    )


def cprofile_real(people: list[Investigator], taxonomy: Taxonomy, mix: Mix, *, requests: int) -> str:
    """Where a quiet real request spends its time by the profiler's own time, the hottest functions first."""
    from django.test import Client

    client = Client()
    severities = list(taxonomy.severities)
    profile = cProfile.Profile()
    for n in range(requests):
        who = people[n % len(people)]
        body = json.dumps(real_body(session_fields(who, severities, mix, got_to_me=False)))
        profile.enable()
        client.post(REAL_PATH, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {who.key}")
        profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(20)
    return out.getvalue()


# --- gunicorn ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, worker_class: str, threads: int) -> Iterator[int]:
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "backend.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            wait_until_up(port, process, log)
            yield port
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


def wait_until_up(port: int, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read().decode(errors='replace')}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status < 500:
                conn.close()
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


# --- report --------------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = os.cpu_count()
    return f"{cores} cores{f' ({model})' if model else ''}, {platform.system()} {platform.release()}"


def postgres_version(pg: dict[str, Any]) -> str:
    import psycopg

    with psycopg.connect(dbname="postgres", **pg) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


@dataclass
class Profiles:
    real: InProcess
    real_follow_up: InProcess
    plain: InProcess
    steps: Steps


def report(
    *,
    args: argparse.Namespace,
    real: Tally,
    plain: Tally,
    check: RollupCheck,
    profiles: Profiles,
    round_ratios: list[float],
    pg_version: str,
    load: tuple[float, float],
    started: datetime,
    elapsed: float,
) -> str:
    ratio = real.rate / plain.rate
    p99_ratio = real.percentile(0.99) / plain.percentile(0.99)
    quiet, follow_up, base = profiles.real, profiles.real_follow_up, profiles.plain

    def ms(value: float) -> str:
        return f"{value * 1000:.1f}"

    rows = [
        ("2xx requests / s", f"{plain.rate:.0f}", f"{real.rate:.0f}", f"{ratio:.0%}"),
        ("p50 latency, ms", ms(plain.percentile(0.5)), ms(real.percentile(0.5)), ""),
        ("p95 latency, ms", ms(plain.percentile(0.95)), ms(real.percentile(0.95)), ""),
        ("p99 latency, ms", ms(plain.percentile(0.99)), ms(real.percentile(0.99)), f"{p99_ratio:.2f}×"),
        ("2xx answers (measured)", str(plain.ok), str(real.ok), ""),
        ("non-2xx answers", str(sum(plain.failures.values())), str(sum(real.failures.values())), ""),
        ("SQL statements / request¹", f"{base.queries:.0f}", f"{quiet.queries:.0f}", ""),
        ("… when it books a follow-up¹", "", f"{follow_up.queries:.0f}", ""),
        ("in-process ms / request¹", f"{base.milliseconds:.1f}", f"{quiet.milliseconds:.1f}", ""),
        ("… of which waiting on SQL¹", f"{base.sql_milliseconds:.1f}", f"{quiet.sql_milliseconds:.1f}", ""),
        ("… when it books a follow-up¹", "", f"{follow_up.milliseconds:.1f}", ""),
    ]
    table = ["| | plain DRF create | real logging endpoint | real / plain |", "|---|---:|---:|---:|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    failures = []
    for name, tally in (("plain", plain), ("real", real)):
        failures += [f"  - {name}: {count} × {what}" for what, count in tally.failures.most_common(5)]
    worker = f"gunicorn, 1 {args.worker_class} worker" + (
        f" × {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    follow_ups = f"one session in {args.follow_up_every}" if args.follow_up_every else "no session"
    lines = [
        "## Logging endpoint against a plain DRF create",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC by `bench/logging_bench.py` ({elapsed:.0f} s in all).",
        "",
        f"- Machine: {machine()}; PostgreSQL {pg_version} on the same machine; Python "
        f"{platform.python_version()}; load average {load[0]:.1f} before, {load[1]:.1f} after (the machine "
        "is shared, which is why only ratios from one run are compared).",
        f"- Server: {worker}, settings `bench.bench_settings` (Keel's settings plus the baseline route), "
        "`DB_CONN_MAX_AGE=60` as in `docker/.env.example`, `DEBUG` off, `KEEL_THROTTLE_USER=1000000/min`, "
        "Celery broker `memory://` (the after-commit outbox kick goes nowhere).",
        f"- Load: {CLIENTS} client threads, each a distinct investigator with an `exposure:write` token, posting "
        "back to back over its own keep-alive connection (the sync worker closes it after each answer, so both "
        f"sides reconnect per request). Sessions of {SESSION_MINUTES} minutes, {SESSIONS_PER_DAY} a local day "
        f"({SESSIONS_PER_DAY * SESSION_MINUTES} minutes, under the default policy's early warnings) on days "
        f"before the seed's {SEED_DAYS} days of history, so no overlap, day-total or limit rule refuses or "
        f"fires; {follow_ups} is marked “this one got to me”, which books a follow-up. {args.investigators} "
        "investigators seeded, half for each side.",
        f"- Timing: {args.warmup:g} s warm-up per endpoint, then {args.rounds} alternating rounds (real first, "
        f"then plain first, …) making {args.seconds:g} s measured per endpoint.",
        "- Baseline `POST /bench/plain/sessions/`: a `CreateAPIView` whose ModelSerializer saves precomputed "
        "fields to `ExposureRecord`, behind the same middleware, token authentication, scope permission and "
        "throttles. Real: `POST /api/v1/exposure/sessions/`.",
        "",
        *table,
        "",
        f"¹ Median of {args.in_process} requests through Django's test client in the bench process after the "
        "load (no HTTP server, no queueing); “waiting on SQL” is the time spent inside `cursor.execute` "
        "(round trip and server work; BEGIN and COMMIT not included). Statement counts include BEGIN and COMMIT.",
        "",
        f"Where a quiet real write spends its time in process ({profiles.steps.whole_ms:.1f} ms, median of "
        f"{args.in_process}; each step's function timed with its statements, nested steps indented):",
        "",
        "| step | ms | statements |",
        "|---|---:|---:|",
        *(
            f"| {'&nbsp;' * 4 * ((len(label) - len(label.lstrip())) // 2)}{label.strip()} | {ms:.1f} | {n:.0f} |"
            for label, ms, n in profiles.steps.rows
        ),
        "",
        f"- Throughput ratio {ratio:.0%}: issue target ≥ 50 % {verdict(ratio >= THROUGHPUT_TARGET_ISSUE)}; "
        f"PRODUCT.md target ≥ 70 % {verdict(ratio >= THROUGHPUT_TARGET_PRODUCT)}. Round by round: "
        + ", ".join(f"{r:.0%}" for r in round_ratios)
        + f" (median {statistics.median(round_ratios):.0%})."
        + (
            " The rounds disagree by more than half: something else was busy on the machine; the in-process "
            "figures below are the steadier ones."
            if max(round_ratios) > 1.5 * min(round_ratios)
            else ""
        ),
        f"- p99 ratio {p99_ratio:.2f}×: target ≤ 2× {verdict(p99_ratio <= P99_TARGET)}.",
        f"- Rollups exact: {'yes' if check.exact else '**NO**'}. {check.added} records added by the real "
        f"endpoint, one per 201; for its {args.investigators // 2} people ({check.records} records with the "
        f"seeded history) the day rollups hold {check.rollup_seconds} s and the records {check.record_seconds} s; "
        f"{check.detail}.",
    ]
    if failures:
        lines += ["- Non-2xx answers:", *failures]
    lines += ["", reading_of(ratio=ratio, p99_ratio=p99_ratio, profiles=profiles, check=check)]
    return "\n".join(lines)


HEADLINE_STEPS = {
    "rollups.apply: four cells": "the rollups",
    "rules.evaluate_written": "the rules",
    "_build: overlap, day total, team, weighting": "the checks in `_build`",
    "_context: organisation, severities, weights": "reading the organisation, severities and weights",
}


def reading_of(*, ratio: float, p99_ratio: float, profiles: Profiles, check: RollupCheck) -> str:
    quiet, follow_up, base = profiles.real, profiles.real_follow_up, profiles.plain
    extra_ms = quiet.milliseconds - base.milliseconds
    extra_sql = quiet.sql_milliseconds - base.sql_milliseconds
    extra_statements = quiet.queries - base.queries
    met = ratio >= THROUGHPUT_TARGET_ISSUE and p99_ratio <= P99_TARGET
    headline = sorted(
        (
            (HEADLINE_STEPS[label.strip()], ms, n)
            for label, ms, n in profiles.steps.rows
            if label.strip() in HEADLINE_STEPS
        ),
        key=lambda row: -row[1],
    )
    parts = [
        f"The real endpoint keeps {ratio:.0%} of the plain create's throughput and its p99 is {p99_ratio:.2f}× the "
        + ("plain one, within the issue's targets" if met else "plain one, short of the targets")
        + (" but short of PRODUCT.md's 70 %." if met and ratio < THROUGHPUT_TARGET_PRODUCT else "."),
        "With one sync worker a request waits for the ones queued ahead of it, so throughput is the inverse of "
        "the cost of one write and the tail latencies grow with it: both targets come down to that cost.",
        f"In process a quiet real write takes {quiet.milliseconds:.1f} ms against {base.milliseconds:.1f} ms and "
        f"runs {quiet.queries:.0f} statements against {base.queries:.0f}; of the {extra_ms:.1f} ms more, "
        f"{extra_sql:.1f} ms is spent inside the database driver, so each of the {extra_statements:.0f} extra "
        f"statements costs about {extra_ms / extra_statements:.1f} ms, "
        + (
            "mostly Django building and compiling the query and the objects around it rather than PostgreSQL "
            "answering it."
            if extra_sql < extra_ms / 2
            else "mostly the round trip and PostgreSQL's work (on a busy machine, also waiting for a core)."
        ),
        "The largest steps are "
        + ", ".join(f"{name} ({ms:.1f} ms, {n:.0f} statements)" for name, ms, n in headline)
        + ".",
        f"A write that books a follow-up runs {follow_up.queries:.0f} statements in {follow_up.milliseconds:.1f} ms.",
        "The rollups matched the records exactly at the end."
        if check.exact
        else "The rollups did NOT match the records: see above.",
    ]
    return " ".join(parts)


def write_section(text: str) -> None:
    """Replaces only what lies between this benchmark's markers (adding them at the end if absent)."""
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{MARK_OPEN}\n{text}\n{MARK_CLOSE}"
    start, end = current.find(MARK_OPEN), current.find(MARK_CLOSE)
    if start != -1 and end > start:
        updated = current[:start] + block + current[end + len(MARK_CLOSE) :]
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(updated)


# --- main ----------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--investigators", type=int, default=64, help="seeded with tokens; half per side")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per endpoint, not measured")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per endpoint")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds the measured time is cut into")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads of a gthread worker")
    parser.add_argument(
        "--follow-up-every", type=int, default=25, help="mark one session in this many 'got to me' (0: none)"
    )
    parser.add_argument("--in-process", type=int, default=40, help="requests per case for the in-process figures")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of in-process requests")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    args = parser.parse_args()
    if args.investigators < 2 * CLIENTS or args.investigators % 2:
        parser.error(f"--investigators must be even and at least {2 * CLIENTS}")
    return args


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def server_env(pg: dict[str, Any]) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url(pg),
        "DB_CONN_MAX_AGE": "60",  # as docker/.env.example; 0 would add a connection per request to both sides
        "KEEL_THROTTLE_USER": "1000000/min",
        "KEEL_ENV": "development",
        "DJANGO_DEBUG": "0",
        "KEEL_LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",  # never drop task messages into a shared broker folder
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)  # also when started in the background, where SIGINT is ignored
    pg = {"host": args.pg_host, "port": args.pg_port, "user": args.pg_user}
    env = server_env(pg)
    os.environ.update(env)  # this process seeds, checks and profiles against the same database
    began = time.monotonic()
    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    stop = threading.Event()
    created = False
    try:
        admin_execute(pg, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin_execute(pg, f'CREATE DATABASE "{DB_NAME}"')
        created = True
        print(f"database {DB_NAME}: migrating …", flush=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "backend.settings"},
            check=True,
            timeout=120,
        )
        import django

        django.setup()
        import logging

        logging.getLogger("keel.audit").setLevel(logging.CRITICAL)  # the seed's token audit lines, not ours

        people = seed(args.investigators, now=started)
        taxonomy = taxonomy_now()
        last_day = started.date() - timedelta(days=SEED_DAYS + 2)
        mix = Mix(
            first_day=last_day - timedelta(days=ROOM_DAYS),
            last_day=last_day,
            follow_up_every=args.follow_up_every,
        )
        half = args.investigators // 2
        sides = {REAL_PATH: people[:half], PLAIN_PATH: people[half:]}
        real_ids = [p.pk for p in sides[REAL_PATH]]
        before = records_of(real_ids)
        print(f"seeded {len(people)} investigators with tokens ({time.monotonic() - began:.0f} s)", flush=True)

        from django.db import connections

        connections.close_all()
        tallies = {REAL_PATH: Tally(), PLAIN_PATH: Tally()}
        answered = {REAL_PATH: 0, PLAIN_PATH: 0}
        phase = 0

        def run(path: str, seconds: float) -> Tally:
            nonlocal phase
            pool = sides[path]
            clients = [pool[(phase * CLIENTS + c) % len(pool)] for c in range(CLIENTS)]
            phase += 1
            tally = drive(port=port, path=path, people=clients, seconds=seconds, taxonomy=taxonomy, mix=mix, stop=stop)
            answered[path] += tally.ok
            return tally

        with gunicorn(env, worker_class=args.worker_class, threads=args.threads) as port:
            print(f"gunicorn on 127.0.0.1:{port}, 1 {args.worker_class} worker; warming up", flush=True)
            run(REAL_PATH, args.warmup)
            run(PLAIN_PATH, args.warmup)
            each = args.seconds / args.rounds
            round_ratios = []
            for number in range(args.rounds):
                order = [REAL_PATH, PLAIN_PATH] if number % 2 == 0 else [PLAIN_PATH, REAL_PATH]
                rates = {}
                for path in order:
                    tally = run(path, each)
                    tallies[path].extend(tally)
                    rates[path] = tally.rate
                    print(f"  round {number + 1} {path}: {tally.rate:.0f} req/s, {tally.ok} ok", flush=True)
                round_ratios.append(rates[REAL_PATH] / rates[PLAIN_PATH] if rates[PLAIN_PATH] else float("nan"))
        real, plain = tallies[REAL_PATH], tallies[PLAIN_PATH]
        if not real.ok or not plain.ok:
            raise RuntimeError(f"no 2xx answers: real {dict(real.failures)}, plain {dict(plain.failures)}")
        load_after = os.getloadavg()[0]

        # Every in-process request answered 201 (in_process raises otherwise), so they count as answered too.
        quiet, follow_up, base = in_process(
            [
                Case(REAL_PATH, sides[REAL_PATH]),
                Case(REAL_PATH, sides[REAL_PATH], True),
                Case(PLAIN_PATH, sides[PLAIN_PATH]),
            ],
            taxonomy,
            mix,
            requests=args.in_process,
        )
        steps = step_breakdown(sides[REAL_PATH], taxonomy, mix, requests=args.in_process)
        profiles = Profiles(real=quiet, real_follow_up=follow_up, plain=base, steps=steps)
        in_process_real = profiles.real.requests + profiles.real_follow_up.requests + args.in_process + 3
        check = check_rollups(real_ids, before=before, answered=answered[REAL_PATH] + in_process_real)

        text = report(
            args=args,
            real=real,
            plain=plain,
            check=check,
            profiles=profiles,
            round_ratios=round_ratios,
            pg_version=postgres_version(pg),
            load=(load_before, load_after),
            started=started,
            elapsed=time.monotonic() - began,
        )
        print()
        print(text)
        for title, profile in (
            ("a quiet real request", profiles.real),
            ("a real request that books a follow-up", profiles.real_follow_up),
            ("a plain request", profiles.plain),
        ):
            print(f"\nStatements of {title} (in process):")
            print("\n".join(f"  {n + 1:2d}. {sql}" for n, sql in enumerate(profile.statements)))
        if args.profile:
            print(cprofile_real(sides[REAL_PATH], taxonomy, mix, requests=50))
        if not args.no_docs:
            write_section(text)
            print("\nwrote the logging-bench section of docs/benchmarks.md")
        return 0 if check.exact else 1
    finally:
        stop.set()
        if "django" in sys.modules:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
        if created:
            with contextlib.suppress(Exception):
                admin_execute(pg, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
                print(f"dropped database {DB_NAME}", flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: gunicorn stopped and the database dropped", file=sys.stderr)
        sys.exit(130)
