"""The alerting path under faults: every crossed threshold makes exactly one alert and one email reaches a
human, while the broker stops and workers are killed. Run from the project root:

    .venv/bin/python bench/chaos_alerts.py [--crossings N]

It creates its own PostgreSQL database, migrates it and seeds one unit: people with `record` and `welfare`
and an email address, and a welfare officer (with an email address) covering them. It starts its own
redis-server on a free loopback port (never the shared one), a local SMTP sink (bench/chaos_smtp_sink.py)
that records each message's Message-ID, two Celery workers (prefork, concurrency 2) and beat, all on this
database and broker. Writer processes then produce the crossings through the real write path
(`exposure_record_create`: a day entry of 250 minutes, over the default 240-minute daily limit, one day a
week per person so no weekly or heavy-days rule joins in; a share of them written twice at once from two
processes, which must still make one alert). Meanwhile the broker is stopped twice (SIGSTOP for a hung
broker, then SIGKILL and a fresh start for a lost one) and one worker is SIGKILLed every 10 s and started
again. When the writing is done it waits (bounded) for the outbox to drain, then checks alerts against
crossings, handler notifications, the outbox and the sink, and measures two more things: commit-to-email
latency with a healthy broker and worker, and that a rolled-back record leaves no alert. It writes its
section of docs/benchmarks.md, and stops everything it started and drops its database, also on error or
Ctrl-C.

A quick run: --crossings 500 --outage-seconds 15 --latency-crossings 50.
"""

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_NAME = "keel_chaos"
MARK_OPEN = "<!-- chaos-bench -->"
MARK_CLOSE = "<!-- /chaos-bench -->"
NOTES_OPEN = "<!-- chaos-notes -->"
NOTES_CLOSE = "<!-- /chaos-notes -->"
RULE_CODE = "exposure.daily_limit"
MINUTES = 250  # over the default daily limit (240); two at once (500) stay under the weekly early warning (720)
WEEKS = 20  # one crossing day (a Wednesday) a week per person, never two days in a row: no heavy-days streak
WORKERS = 2
LATENCY_P99_TARGET = 5.0
RETURN_TARGET = 60.0
WRITE_ANSWER_TARGET = 10.0  # a write must answer well inside gunicorn's 30 s timeout (docker/entrypoint.sh)
DRAIN_TIMEOUT = 300.0
_WRITERS: list[Any] = []  # writer processes, stopped in main's finally whatever happens


# --- small helpers ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_execute(pg: dict[str, Any], sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **pg) as conn:
        conn.execute(sql)


def postgres_version(pg: dict[str, Any]) -> str:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **pg) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def redis_answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def fmt(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


# --- the services this run starts ---------------------------------------------------------------------------


@dataclass
class Services:
    tmp: Path
    env: dict[str, str]
    redis_port: int
    smtp_port: int
    sink_path: Path
    smtp_delay: float = 0.0
    redis: subprocess.Popen[bytes] | None = None
    redis_paused: bool = False
    sink: subprocess.Popen[bytes] | None = None
    beat: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes] | None] = field(default_factory=lambda: [None] * WORKERS)
    worker_starts: int = 0
    worker_kills: int = 0
    kill_times: list[float] = field(default_factory=list)
    worker_deaths: int = 0  # died by themselves
    beat_restarts: int = 0

    def _log(self, name: str) -> Any:
        return open(self.tmp / f"{name}.log", "ab")

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        log = self._log(name)
        try:
            # Its own session, so a kill reaches the whole process group and Ctrl-C reaches only us.
            return subprocess.Popen(
                cmd, env=self.env, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()

    def start_redis(self) -> None:
        self.redis = self._spawn(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            "redis",
        )
        self.redis_paused = False
        deadline = time.monotonic() + 10
        while not redis_answers(self.redis_port):
            if time.monotonic() > deadline or self.redis.poll() is not None:
                raise RuntimeError(f"redis-server did not start on {self.redis_port}: see {self.tmp}/redis.log")
            time.sleep(0.05)

    def pause_redis(self) -> None:
        assert self.redis is not None
        os.kill(self.redis.pid, signal.SIGSTOP)
        self.redis_paused = True

    def resume_redis(self) -> None:
        assert self.redis is not None
        os.kill(self.redis.pid, signal.SIGCONT)
        self.redis_paused = False

    def kill_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()
        self.redis.wait()

    def start_sink(self) -> None:
        self.sink = self._spawn(
            [
                sys.executable,
                str(ROOT / "bench" / "chaos_smtp_sink.py"),
                "--port",
                str(self.smtp_port),
                "--out",
                str(self.sink_path),
                "--delay",
                str(self.smtp_delay),
            ],
            "sink",
        )
        deadline = time.monotonic() + 10
        while not port_open(self.smtp_port):
            if time.monotonic() > deadline or self.sink.poll() is not None:
                raise RuntimeError(f"the SMTP sink did not start: see {self.tmp}/sink.log")
            time.sleep(0.05)

    def start_worker(self, index: int) -> None:
        self.workers[index] = self._spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backend",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
                "-n",
                f"chaos{index}-{os.getpid()}@%h",
            ],
            f"worker{index}",
        )
        self.worker_starts += 1

    def kill_worker(self, index: int) -> None:
        process = self.workers[index]
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.worker_kills += 1
        self.kill_times.append(time.time())

    def start_beat(self) -> None:
        self.beat = self._spawn(
            [sys.executable, "-m", "celery", "-A", "backend", "beat", "--loglevel", "WARNING"], "beat"
        )

    def keep_alive(self) -> None:
        """A worker or beat that died by itself is counted and started again."""
        for index, process in enumerate(self.workers):
            if process is not None and process.poll() is not None:
                self.worker_deaths += 1
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                self.start_worker(index)
        if self.beat is not None and self.beat.poll() is not None:
            self.beat_restarts += 1
            self.start_beat()

    def stop_all(self) -> None:
        if self.redis is not None and self.redis_paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.redis.pid, signal.SIGCONT)
        processes = [p for p in [*self.workers, self.beat, self.sink, self.redis] if p is not None]
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # Pool children left behind by a SIGKILLed parent share its process group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def wait_for_workers(expected: int, timeout: float = 90.0) -> int:
    from backend.celery import app

    deadline = time.monotonic() + timeout
    replies: list[Any] = []
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= expected:
            return len(replies)
        time.sleep(0.5)
    return len(replies)


class Sink:
    """Reads the sink's JSON lines as they grow: Message-ID → arrival times."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.messages = 0

    def read(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            record = json.loads(line)
            self.arrivals[record["message_id"]].append(record["at"])
            self.messages += 1

    def first(self, message_id: str) -> float | None:
        times = self.arrivals.get(message_id)
        return min(times) if times else None


# --- the organisation and the plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    key: str  # the alert's dedup key: rule, person, period
    person_pk: int
    day: str


def seed(people: int, *, now: datetime) -> list[tuple[int, str]]:
    """One unit and team, a welfare officer and a welfare lead with email addresses, and ``people`` people
    with an email address who choose `record` and `welfare` through the consent service."""
    from backend.consent.models import Channel
    from backend.consent.selectors import notice_current
    from backend.consent.services import choice_set
    from backend.demo.seed import UNUSABLE_PASSWORD
    from backend.organisation.models import Membership, Person, Role, RoleAssignment, Team, Unit

    notice = notice_current()
    if notice is None:
        raise RuntimeError("The migrations published no privacy notice.")
    unit = Unit.objects.create(name="Chaos Unit", exposed_role=True, highest_risk=True)
    team = Team.objects.create(unit=unit, name="Chaos Team")
    officer = Person.objects.create(
        username="chaos-officer",
        email="officer@chaos.invalid",
        display_name="Olive Officer",
        password=UNUSABLE_PASSWORD,
    )
    lead = Person.objects.create(
        username="chaos-lead", email="lead@chaos.invalid", display_name="Lee Lead", password=UNUSABLE_PASSWORD
    )
    RoleAssignment.objects.create(person=officer, role=Role.WELFARE_OFFICER, unit=unit)
    RoleAssignment.objects.create(person=lead, role=Role.WELFARE_LEAD)
    staff = Person.objects.bulk_create(
        [
            Person(
                username=f"chaos{i:05d}",
                email=f"person{i:05d}@chaos.invalid",
                display_name=f"Person {i:05d}",
                password=UNUSABLE_PASSWORD,
            )
            for i in range(people)
        ],
        batch_size=2000,
    )
    started = now.date() - timedelta(days=400)
    Membership.objects.bulk_create([Membership(person=p, team=team, started_on=started) for p in staff])
    RoleAssignment.objects.bulk_create([RoleAssignment(person=p, role=Role.INVESTIGATOR) for p in staff])
    for person in staff:
        for choice in ("record", "welfare"):
            choice_set(
                person=person, choice=choice, given=True, channel=Channel.API, now=now, notice_version=notice.version
            )
    return [(p.pk, str(p.public_id)) for p in staff]


def crossing_days(today: date) -> list[date]:
    """The Wednesday of each of the WEEKS weeks before this one (all within the year a day entry may go back)."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=k + 1) + timedelta(days=2) for k in range(WEEKS)]


def slots(people: list[tuple[int, str]], days: list[date]) -> list[Crossing]:
    """Week by week, person by person: consecutive crossings belong to different people."""
    return [
        Crossing(key=f"{RULE_CODE}:{public_id}:{day.isoformat()}", person_pk=pk, day=day.isoformat())
        for day in days
        for pk, public_id in people
    ]


@dataclass
class Write:
    crossing: Crossing
    at: float  # seconds after the start
    duplicate: bool = False


def plan(crossings: list[Crossing], *, seconds: float, duplicate_share: float, rng: random.Random) -> list[Write]:
    """Evenly spread over ``seconds``; a duplicated crossing is written twice back to back, which the
    round-robin hands to two different writer processes, so the two writes race for the same key."""
    order: list[tuple[Crossing, bool]] = []
    for crossing in crossings:
        order.append((crossing, False))
        if rng.random() < duplicate_share:
            order.append((crossing, True))
    step = seconds / max(1, len(order))
    writes = []
    for index, (crossing, duplicate) in enumerate(order):
        at = (index - 1 if duplicate else index) * step  # the twin goes at the same moment as the first
        writes.append(Write(crossing=crossing, at=at, duplicate=duplicate))
    return writes


# --- writer processes ----------------------------------------------------------------------------------


def writer_process(index: int, writes: list[dict[str, Any]], ready: Any, start: Any, out_path: str) -> None:
    """One writer: waits for the common start, then makes each write at its time (or as soon as it can when
    behind), through the real service, and logs when it started, committed and returned."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    import django

    django.setup()
    from django.db import close_old_connections, transaction
    from django.utils import timezone

    from backend.exposure.services import RecordInput, exposure_record_create
    from backend.organisation.models import Person

    people = Person.objects.in_bulk({w["person_pk"] for w in writes})
    ready.put(index)
    while start.value == 0:
        time.sleep(0.01)
    t0 = start.value
    with open(out_path, "w", encoding="utf-8") as out:
        for write in writes:
            delay = t0 + write["at"] - time.time()
            if delay > 0:
                time.sleep(delay)
            committed: list[float] = []
            started = time.time()
            error = ""
            try:
                # The outer block only stamps the commit: its callback is registered before the service's
                # on-commit kick, so it runs first, right after COMMIT.
                with transaction.atomic():
                    transaction.on_commit(lambda stamps=committed: stamps.append(time.time()))
                    exposure_record_create(
                        person=people[write["person_pk"]],
                        data=RecordInput(
                            kind="day",
                            media_type="still",
                            severity="C",
                            date=date.fromisoformat(write["day"]),
                            minutes=MINUTES,
                        ),
                        source="api",
                        now=timezone.now(),
                    )
            except Exception as exc:  # a failed write is a result, logged and counted
                error = f"{type(exc).__name__}: {exc}"[:300]
                close_old_connections()
            ended = time.time()
            out.write(
                json.dumps(
                    {
                        "key": write["key"],
                        "duplicate": write["duplicate"],
                        "started": started,
                        "committed": committed[0] if committed else None,
                        "ended": ended,
                        "error": error,
                    }
                )
                + "\n"
            )
            out.flush()


def start_writers(writes: list[Write], count: int, tmp: Path, tag: str) -> tuple[list[Any], Any, list[Path]]:
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    start = ctx.Value("d", 0.0)
    shares: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for index, write in enumerate(writes):
        shares[index % count].append(
            {
                "key": write.crossing.key,
                "person_pk": write.crossing.person_pk,
                "day": write.crossing.day,
                "at": write.at,
                "duplicate": write.duplicate,
            }
        )
    paths = [tmp / f"{tag}-writer{i}.jsonl" for i in range(count)]
    processes = [
        ctx.Process(target=writer_process, args=(i, shares[i], ready, start, str(paths[i])), daemon=True)
        for i in range(count)
    ]
    for process in processes:
        process.start()
        _WRITERS.append(process)
    for _ in range(count):
        ready.get(timeout=120)
    return processes, start, paths


def read_writes(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        if path.exists():
            rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


# --- the phases --------------------------------------------------------------------------------------------


@dataclass
class Outage:
    name: str
    how: str
    start: float = 0.0  # absolute, when it began
    end: float = 0.0  # absolute, when the broker answered again


@dataclass
class ChaosPhase:
    writes: list[dict[str, Any]]
    outages: list[Outage]
    began: float
    writes_done: float
    drained: float | None
    worker_kills: int


def chaos_phase(
    services: Services, args: argparse.Namespace, crossings: list[Crossing], rng: random.Random
) -> ChaosPhase:
    from django.db import close_old_connections

    from backend.alerts.models import OutboxMessage, OutboxState

    outage = args.outage_seconds
    writes = plan(crossings, seconds=1.0, duplicate_share=args.duplicate_share, rng=rng)
    write_seconds = args.write_seconds or max(4 * outage, len(writes) / args.write_rate)
    for write in writes:
        write.at *= write_seconds
    starts_after = [write_seconds / 3 - outage / 2, 2 * write_seconds / 3 - outage / 2] if outage else []
    print(
        f"chaos: {len(crossings)} crossings in {len(writes)} writes planned over {write_seconds:.0f} s from "
        f"{args.writers} writer processes; "
        + (
            f"broker down at {starts_after[0]:.0f} s and {starts_after[1]:.0f} s for {outage:.0f} s each; "
            if outage
            else "no broker outage; "
        )
        + (f"a worker SIGKILLed every {args.kill_every:.0f} s" if args.kill_every else "no worker killed"),
        flush=True,
    )
    processes, start, paths = start_writers(writes, args.writers, services.tmp, "chaos")
    t0 = time.time() + 0.5
    start.value = t0
    schedule = [
        Outage("hung broker", "SIGSTOP, then SIGCONT"),
        Outage("lost broker", "SIGKILL, then a fresh redis-server (queue and unacked tasks gone)"),
    ][: len(starts_after)]
    starts = [t0 + after for after in starts_after]
    kills_before = services.worker_kills
    next_kill, victim = t0 + args.kill_every, 0
    active: int | None = None
    writes_done: float | None = None
    hard_stop = t0 + write_seconds * 4 + 300
    while True:
        now = time.time()
        if active is None:
            for number, at in enumerate(starts):
                if schedule[number].start == 0 and now >= at:
                    active = number
                    schedule[number].start = now
                    if number == 0:
                        services.pause_redis()
                    else:
                        services.kill_redis()
                    print(f"  {now - t0:6.1f} s broker down ({schedule[number].name})", flush=True)
                    break
        elif now >= schedule[active].start + outage:
            if active == 0:
                services.resume_redis()
            else:
                services.start_redis()
            schedule[active].end = time.time()
            print(f"  {schedule[active].end - t0:6.1f} s broker back", flush=True)
            active = None
        outages_over = all(o.end for o in schedule)
        if writes_done is None and not any(p.is_alive() for p in processes):
            writes_done = time.time()
            print(f"  {writes_done - t0:6.1f} s writes done", flush=True)
        if args.kill_every and (writes_done is None or not outages_over) and now >= next_kill:
            services.kill_worker(victim)
            services.start_worker(victim)
            victim = (victim + 1) % WORKERS
            next_kill += args.kill_every
        services.keep_alive()
        if writes_done is not None and outages_over:
            break
        if now > hard_stop:
            raise RuntimeError("The chaos phase overran its time limit; writers are stuck?")
        time.sleep(0.05)
    for process in processes:
        process.join(timeout=5)
    kills = services.worker_kills - kills_before
    print(f"  writes done and broker back; {kills} workers killed; waiting for the outbox to drain", flush=True)
    deadline = time.time() + args.drain_timeout
    drained = None
    while time.time() < deadline:
        services.keep_alive()
        close_old_connections()
        if not OutboxMessage.objects.filter(state=OutboxState.PENDING).exists():
            drained = time.time()
            break
        time.sleep(0.5)
    print(
        f"  outbox {'drained' if drained else 'NOT drained'} "
        f"{(drained or time.time()) - writes_done:.1f} s after the last write",
        flush=True,
    )
    return ChaosPhase(
        writes=read_writes(paths),
        outages=schedule,
        began=t0,
        writes_done=writes_done,
        drained=drained,
        worker_kills=kills,
    )


@dataclass
class LatencyPhase:
    writes: list[dict[str, Any]]
    latencies: list[float]
    missing: int


def latency_phase(services: Services, args: argparse.Namespace, crossings: list[Crossing], sink: Sink) -> LatencyPhase:
    seconds = len(crossings) / args.latency_rate
    writes = plan(crossings, seconds=seconds, duplicate_share=0.0, rng=random.Random(0))
    print(f"latency: {len(crossings)} crossings at {args.latency_rate:g}/s, healthy broker, no kills", flush=True)
    processes, start, paths = start_writers(writes, 2, services.tmp, "latency")
    start.value = time.time() + 0.5
    for process in processes:
        process.join(timeout=seconds * 4 + 120)
    rows = read_writes(paths)
    committed = {r["key"]: r["committed"] for r in rows if r["committed"]}
    ids = message_ids_by_key(set(committed))
    deadline = time.time() + 60
    while time.time() < deadline:
        sink.read()
        if all(sink.first(m) for m in ids.values()):
            break
        time.sleep(0.2)
    latencies = []
    missing = 0
    for key, at in committed.items():
        arrived = sink.first(ids[key]) if key in ids else None
        if arrived is None:
            missing += 1
        else:
            latencies.append(arrived - at)
    return LatencyPhase(writes=rows, latencies=latencies, missing=missing)


def message_ids_by_key(keys: set[str]) -> dict[str, str]:
    """Crossing key → the Message-ID of the email telling the alert's handler (step "raised")."""
    from django.conf import settings

    from backend.alerts.models import Alert, OutboxMessage

    by_alert = dict(Alert.objects.filter(dedup_key__in=keys).values_list("public_id", "dedup_key"))
    result = {}
    for public_id, dedup_key in OutboxMessage.objects.filter(
        kind="email", dedup_key__startswith="email:alert:", dedup_key__contains=":raised:"
    ).values_list("public_id", "dedup_key"):
        alert_id = dedup_key.split(":")[2]
        key = by_alert.get(uuid.UUID(alert_id))
        if key is not None:
            result[key] = f"<{public_id}@{settings.KEEL_MESSAGE_ID_DOMAIN}>"
    return result


@dataclass
class RollbackCheck:
    alert_inside: bool
    alert_after: bool
    new_rows: dict[str, int]
    new_mail: int

    @property
    def ok(self) -> bool:
        return self.alert_inside and not self.alert_after and not any(self.new_rows.values()) and not self.new_mail


def rollback_check(crossing: Crossing, sink: Sink, wait: float) -> RollbackCheck:
    """A crossing written inside a transaction that is then rolled back leaves nothing behind: no record,
    alert, notification or outbox row, and no email even after the relay has had time to run."""
    from django.db import transaction
    from django.utils import timezone

    from backend.alerts.models import Alert, Notification, OutboxMessage
    from backend.exposure.models import ExposureRecord
    from backend.exposure.services import RecordInput, exposure_record_create
    from backend.organisation.models import Person

    models = {"records": ExposureRecord, "alerts": Alert, "notifications": Notification, "outbox": OutboxMessage}
    before = {name: model.objects.count() for name, model in models.items()}
    sink.read()
    mail_before = sink.messages

    class Rollback(Exception):
        pass

    inside = False
    with contextlib.suppress(Rollback), transaction.atomic():
        exposure_record_create(
            person=Person.objects.get(pk=crossing.person_pk),
            data=RecordInput(
                kind="day", media_type="still", severity="C", date=date.fromisoformat(crossing.day), minutes=MINUTES
            ),
            source="api",
            now=timezone.now(),
        )
        inside = Alert.objects.filter(dedup_key=crossing.key).exists()
        raise Rollback
    time.sleep(wait)
    sink.read()
    return RollbackCheck(
        alert_inside=inside,
        alert_after=Alert.objects.filter(dedup_key=crossing.key).exists(),
        new_rows={name: model.objects.count() - before[name] for name, model in models.items()},
        new_mail=sink.messages - mail_before,
    )


# --- checks and the report ---------------------------------------------------------------------------------


@dataclass
class Checks:
    crossings: int  # distinct keys with at least one committed write
    failed_writes: Counter[str]
    alerts: int
    alerts_distinct: int
    lost: int
    unexpected: int
    other_alerts: Counter[str]
    handler_notifications: int
    email_rows: int
    emails_per_alert_max: int
    delivered: int  # alerts whose email reached the sink
    sink_messages: int
    sink_distinct: int
    unknown_ids: int
    pending: int
    dead: int
    attempts_over_1: int

    @property
    def resends(self) -> int:
        return self.sink_messages - self.sink_distinct

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.unexpected == 0
            and self.alerts == self.crossings == self.alerts_distinct
            and self.handler_notifications == self.crossings
            and self.email_rows == self.alerts
            and self.emails_per_alert_max == 1
            and self.delivered == self.alerts
            and self.sink_distinct == self.alerts
            and self.unknown_ids == 0
            and self.pending == 0
            and self.dead == 0
            and not self.failed_writes
            and not self.other_alerts
        )


def check_all(writes: list[dict[str, Any]], sink: Sink) -> Checks:
    from django.conf import settings
    from django.db.models import Count

    from backend.alerts.models import Alert, Notification, NotificationKind, OutboxMessage, OutboxState

    produced = {w["key"] for w in writes if w["committed"]}
    failed = Counter(w["error"].split(":")[0] for w in writes if w["error"])
    alerts = dict(Alert.objects.filter(rule=RULE_CODE).values_list("public_id", "dedup_key"))
    keys = set(alerts.values())
    other = Counter(Alert.objects.exclude(rule=RULE_CODE).values_list("rule", flat=True))
    notes = Notification.objects.filter(
        kind=NotificationKind.ALERT, alert__rule=RULE_CODE, dedup_key__contains=":raised:"
    ).count()
    emails = list(
        OutboxMessage.objects.filter(kind="email", dedup_key__startswith="email:alert:").values_list(
            "public_id", "dedup_key"
        )
    )
    per_alert = Counter(d.split(":")[2] for _, d in emails)
    sink.read()
    ids = {f"<{p}@{settings.KEEL_MESSAGE_ID_DOMAIN}>": d.split(":")[2] for p, d in emails}
    delivered = {alert for message_id, alert in ids.items() if sink.first(message_id) is not None}
    states = dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    retried = OutboxMessage.objects.filter(attempts__gt=0).count()
    return Checks(
        crossings=len(produced),
        failed_writes=failed,
        alerts=len(alerts),
        alerts_distinct=len(keys),
        lost=len(produced - keys),
        unexpected=len(keys - produced),
        other_alerts=other,
        handler_notifications=notes,
        email_rows=len(emails),
        emails_per_alert_max=max(per_alert.values(), default=0),
        delivered=len(delivered & {str(a) for a in alerts}),
        sink_messages=sink.messages,
        sink_distinct=len(sink.arrivals),
        unknown_ids=len(set(sink.arrivals) - set(ids)),
        pending=states.get(OutboxState.PENDING, 0),
        dead=states.get(OutboxState.DEAD, 0),
        attempts_over_1=retried,
    )


@dataclass
class OutageFigures:
    outage: Outage
    started: int
    in_flight: int  # writes running at some moment of the outage
    committed: int
    failed: int
    write_p50: float
    write_max: float
    kick_max: float
    mail_during: int
    mail_after: int
    mail_missing: int
    after_return_max: float
    after_return_p50: float


def outage_figures(outage: Outage, writes: list[dict[str, Any]], ids: dict[str, str], sink: Sink) -> OutageFigures:
    inside = [w for w in writes if outage.start <= w["started"] < outage.end]
    in_flight = [w for w in writes if w["started"] < outage.end and w["ended"] > outage.start]
    committed = [w for w in writes if w["committed"] and outage.start <= w["committed"] < outage.end]
    delays, during, missing = [], 0, 0
    for w in committed:
        arrived = sink.first(ids.get(w["key"], ""))
        if arrived is None:
            missing += 1
        elif arrived < outage.end:
            during += 1
        else:
            delays.append(arrived - outage.end)
    durations = [w["ended"] - w["started"] for w in in_flight]
    kicks = [w["ended"] - w["committed"] for w in committed]
    return OutageFigures(
        outage=outage,
        started=len(inside),
        in_flight=len(in_flight),
        committed=len(committed),
        failed=sum(1 for w in in_flight if w["error"]),
        write_p50=percentile(durations, 50),
        write_max=max(durations, default=float("nan")),
        kick_max=max(kicks, default=float("nan")),
        mail_during=during,
        mail_after=len(delays),
        mail_missing=missing,
        after_return_max=max(delays, default=float("nan")),
        after_return_p50=percentile(delays, 50),
    )


def late_causes(
    chaos: ChaosPhase, ids: dict[str, str], sink: Sink, kill_times: list[float], over: float = 10.0
) -> Counter[str]:
    """What lay between the commit and the email of each crossing (committed with the broker up) whose email
    took more than ``over`` seconds: a broker outage, a worker kill, or neither."""
    first: dict[str, float] = {}
    for w in chaos.writes:
        if w["committed"] and (w["key"] not in first or w["committed"] < first[w["key"]]):
            first[w["key"]] = w["committed"]
    causes: Counter[str] = Counter()
    for key, at in first.items():
        arrived = sink.first(ids.get(key, ""))
        if arrived is None or arrived - at <= over or any(o.start <= at < o.end for o in chaos.outages):
            continue
        if any(at < o.start < arrived for o in chaos.outages):
            causes["a broker outage began before the email went"] += 1
        elif any(at - 1 <= k < arrived for k in kill_times):
            causes["a worker was killed in between"] += 1
        else:
            causes["neither"] += 1
    return causes


def fault_latencies(chaos: ChaosPhase, ids: dict[str, str], sink: Sink) -> list[float]:
    """Commit-to-email of each crossing first committed while the broker was up, during the fault phase."""
    first: dict[str, float] = {}
    for w in chaos.writes:
        if w["committed"] and (w["key"] not in first or w["committed"] < first[w["key"]]):
            first[w["key"]] = w["committed"]
    result = []
    for key, at in first.items():
        arrived = sink.first(ids.get(key, ""))
        if arrived is not None and not any(o.start <= at < o.end for o in chaos.outages):
            result.append(arrived - at)
    return result


def verdict(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def report(
    *,
    args: argparse.Namespace,
    chaos: ChaosPhase,
    latency: LatencyPhase,
    rollback: RollbackCheck,
    checks: Checks,
    outages: list[OutageFigures],
    services: Services,
    pg_version: str,
    under_kills: list[float],
    late: Counter[str],
    started: datetime,
    elapsed: float,
) -> str:
    from backend.alerts.outbox import LEASE

    healthy = [
        w["ended"] - w["started"]
        for w in chaos.writes
        if not any(o.start - 1 <= w["started"] < o.end + 1 for o in chaos.outages)
    ]
    write_seconds = chaos.writes_done - chaos.began
    people = len({w["key"].split(":")[1] for w in chaos.writes})
    exact = checks.alerts == checks.crossings and not checks.lost and not checks.unexpected
    lat = latency.latencies
    latency_ok = bool(lat) and latency.missing == 0 and percentile(lat, 99) < LATENCY_P99_TARGET
    return_ok = all(f.failed == 0 and f.mail_missing == 0 and not (f.after_return_max > RETURN_TARGET) for f in outages)
    write_ok = all(f.failed == 0 for f in outages)
    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC: `.venv/bin/python bench/chaos_alerts.py --crossings {args.crossings}`"
        + (f" (options: {args.options})" if args.options else "")
        + f" at commit {code_version()}, {elapsed / 60:.1f} minutes in all, on {os.cpu_count()} cores "
        f"({platform.machine()}), "
        f"PostgreSQL {pg_version}, Redis {redis_version()}, Python {platform.python_version()}. "
        "All on one machine, which other work shared during the run.",
        "",
        f"**{args.crossings:,} crossings** under faults (rule `{RULE_CODE}`, {people:,} people × up to {WEEKS} "
        f"weeks) in {len(chaos.writes):,} writes through `exposure_record_create` from {args.writers} processes "
        f"over {write_seconds:.0f} s (planned {args.write_rate:g} writes/s; slower means the machine could not "
        f"keep up); "
        f"{sum(1 for w in chaos.writes if w['duplicate']):,} crossings were written twice at the same moment from "
        f"two processes. Two Celery workers (prefork, concurrency 2) and beat; "
        + (
            f"one worker SIGKILLed (whole process group) and restarted every {args.kill_every:.0f} s while writing "
            f"({chaos.worker_kills} kills); "
            if args.kill_every
            else "no worker killed; "
        )
        + (f"the broker down for {args.outage_seconds:.0f} s twice. " if chaos.outages else "no broker outage. ")
        + (f"The SMTP sink answered each message {args.smtp_delay:g} s late. " if args.smtp_delay else "")
        + f"Workers that died by themselves: {services.worker_deaths}; "
        f"beat restarts: {services.beat_restarts}. The checks below cover these and the "
        f"{len(latency.writes)} crossings of the latency phase ({checks.crossings:,} in all).",
        "",
        "| Check | Result | Target |",
        "|---|---|---|",
        f"| Alerts vs crossings | {checks.alerts:,} alerts for {checks.crossings:,} crossings; "
        f"{checks.lost} lost, {checks.unexpected} unexpected, {checks.alerts - checks.alerts_distinct} duplicated "
        f"| equal, 0 lost, 0 duplicated: {verdict(exact)} |",
        f"| Other alerts (weekly, heavy days, dead letter) | {sum(checks.other_alerts.values())} "
        f"{dict(checks.other_alerts) or ''} | 0: {verdict(not checks.other_alerts)} |",
        f"| Handler notifications | {checks.handler_notifications:,} | = crossings: "
        f"{verdict(checks.handler_notifications == checks.crossings)} |",
        f"| Email rows in the outbox | {checks.email_rows:,} (at most {checks.emails_per_alert_max} per alert) "
        f"| one per alert: {verdict(checks.email_rows == checks.alerts and checks.emails_per_alert_max == 1)} |",
        f"| Alerts whose email reached the sink | {checks.delivered:,} of {checks.alerts:,} | all: "
        f"{verdict(checks.delivered == checks.alerts)} |",
        f"| Distinct Message-IDs at the sink | {checks.sink_distinct:,} ({checks.unknown_ids} unknown) "
        f"| = alerts: {verdict(checks.sink_distinct == checks.alerts and not checks.unknown_ids)} |",
        f"| Resends (same Message-ID again) | {checks.resends:,} of {checks.sink_messages:,} messages | counted |",
        f"| Outbox left pending / dead-lettered | {checks.pending} / {checks.dead} "
        f"({checks.attempts_over_1} rows needed a retry) | 0 / 0: {verdict(not checks.pending and not checks.dead)} |",
        f"| Failed writes | {sum(checks.failed_writes.values())} {dict(checks.failed_writes) or ''} | 0: "
        f"{verdict(not checks.failed_writes)} |",
        "| Outbox drained after the last write | "
        + (f"{chaos.drained - chaos.writes_done:.1f} s" if chaos.drained else "not within the limit")
        + f" | ≤ {args.drain_timeout:.0f} s: {verdict(chaos.drained is not None)} |",
        f"| A rolled-back record | alert inside the transaction: {'yes' if rollback.alert_inside else 'no'}; "
        f"after rollback: {'an alert' if rollback.alert_after else 'no alert'}, new rows "
        f"{sum(rollback.new_rows.values())}, new email {rollback.new_mail} | nothing left: {verdict(rollback.ok)} |",
        f"| Commit-to-email latency, healthy ({len(lat)} crossings at {args.latency_rate:g}/s) | "
        f"p50 {fmt(percentile(lat, 50))}, p95 {fmt(percentile(lat, 95))}, p99 {fmt(percentile(lat, 99))}, "
        f"max {fmt(max(lat, default=float('nan')))}; {latency.missing} never arrived "
        f"| p99 < {LATENCY_P99_TARGET:.0f} s: {verdict(latency_ok)} |",
        "",
        "With the broker down (a crossing counts for the outage when it committed while the broker was down; "
        "its email's delay is counted from the broker's return):",
        "",
        "| Outage | Writes started / in flight / committed / failed | Write time p50 / max (in flight) "
        "| On-commit kick max "
        "| Email before return / after / never | After return p50 / max |",
        "|---|---|---|---|---|---|",
    ]
    for f in outages:
        lines.append(
            f"| {f.outage.name} ({f.outage.how}), {f.outage.end - f.outage.start:.0f} s | {f.started} / "
            f"{f.in_flight} / {f.committed} / {f.failed} | {fmt(f.write_p50)} / {fmt(f.write_max)} | "
            f"{fmt(f.kick_max)} | "
            f"{f.mail_during} / {f.mail_after} / {f.mail_missing} | {fmt(f.after_return_p50)} / "
            f"{fmt(f.after_return_max)} |"
        )
    lines += [
        "",
        f"Writes with the broker up took p50 {fmt(percentile(healthy, 50))}, p99 {fmt(percentile(healthy, 99))}. "
        f"Commit-to-email for the {len(under_kills):,} crossings committed with the broker up during the fault phase "
        f"(workers being killed, backlogs after outages): p50 {fmt(percentile(under_kills, 50))}, "
        f"p99 {fmt(percentile(under_kills, 99))}, max {fmt(max(under_kills, default=float('nan')))}; "
        f"{sum(1 for v in under_kills if v > 10):,} took over 10 s"
        + (
            " (" + ", ".join(f"{n}: {cause}" for cause, n in late.most_common()) + "; "
            f"a batch leased by a killed worker waits for its {LEASE.total_seconds():.0f}-second lease to run out, "
            "and a hung broker holds up the relay tasks queued behind it). "
            if late
            else ". "
        ),
    ]
    if outages:
        slowest = max(f.write_max for f in outages)
        lines[-1] += (
            f"With the broker down the write path succeeded every time: {verdict(write_ok)}; it kept answering "
            f"(slowest write {fmt(slowest)}, target under {WRITE_ANSWER_TARGET:.0f} s): "
            f"{verdict(slowest < WRITE_ANSWER_TARGET)}; every email of a crossing made during an outage went out "
            f"within {RETURN_TARGET:.0f} s of the broker's return: {verdict(return_ok)}."
        )
    return "\n".join(lines)


def code_version() -> str:
    """The commit the run measured, and whether backend/ had changes not yet committed."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "backend"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' with uncommitted changes in backend/' if dirty else ''}" if head else "unknown"


def redis_version() -> str:
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.split("v=")[1].split()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def write_section(text: str) -> None:
    """Replaces only what lies between this benchmark's markers (adding them at the end if absent), keeping
    the hand-written notes between the notes markers inside it (findings, experiments) across runs."""
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = current.find(MARK_OPEN), current.find(MARK_CLOSE)
    notes_start, notes_end = current.find(NOTES_OPEN), current.find(NOTES_CLOSE)
    if start <= notes_start < notes_end <= end and start != -1:
        text += "\n\n" + current[notes_start : notes_end + len(NOTES_CLOSE)]
    block = f"{MARK_OPEN}\n{text}\n{MARK_CLOSE}"
    if start != -1 and end > start:
        updated = current[:start] + block + current[end + len(MARK_CLOSE) :]
    else:
        updated = current.rstrip("\n") + "\n\n## Alerting under faults\n\n" + block + "\n"
    path.write_text(updated)


# --- main --------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crossings", type=int, default=10_000, help="threshold crossings in the chaos phase")
    parser.add_argument("--writers", type=int, default=6, help="writer processes")
    parser.add_argument("--duplicate-share", type=float, default=0.1, help="crossings also written by a twin")
    parser.add_argument("--outage-seconds", type=float, default=60.0, help="each broker outage")
    parser.add_argument("--write-rate", type=float, default=20.0, help="planned writes per second, all writers")
    parser.add_argument(
        "--write-seconds", type=float, default=0.0, help="spread the writes over this (0: by --write-rate)"
    )
    parser.add_argument("--kill-every", type=float, default=10.0, help="SIGKILL a worker this often")
    parser.add_argument("--drain-timeout", type=float, default=DRAIN_TIMEOUT)
    parser.add_argument("--latency-crossings", type=int, default=200)
    parser.add_argument("--latency-rate", type=float, default=10.0, help="crossings per second")
    parser.add_argument("--max-minutes", type=float, default=25.0, help="give up (and clean up) after this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--smtp-delay", type=float, default=0.0, help="the sink answers each message this late (a slow server)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs (printed path)")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    parser.add_argument("--redis-port", type=int, default=0, help="for our own redis-server (0: a free port)")
    args = parser.parse_args()
    if args.crossings < 1 or args.writers < 2:
        parser.error("--crossings must be positive and --writers at least 2")
    defaults = {a.dest: a.default for a in parser._actions if a.dest not in ("help", "crossings")}
    args.options = " ".join(
        f"--{k.replace('_', '-')} {v}"
        for k, v in vars(args).items()
        if k in defaults and v != defaults[k] and not k.startswith("pg_") and k not in ("keep_logs", "no_docs")
    )
    return args


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _overran(signum: int, frame: object) -> None:
    raise TimeoutError("chaos_alerts.py ran past --max-minutes")


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGALRM, _overran)
    signal.alarm(int(args.max_minutes * 60))
    pg = {"host": args.pg_host, "port": args.pg_port, "user": args.pg_user}
    tmp = Path(tempfile.mkdtemp(prefix="keel-chaos-"))
    services = Services(
        tmp=tmp,
        env={},
        redis_port=args.redis_port or free_port(),
        smtp_port=free_port(),
        sink_path=tmp / "sink.jsonl",
        smtp_delay=args.smtp_delay,
    )
    services.env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DATABASE_URL": f"postgres://{pg['user']}@{pg['host']}:{pg['port']}/{DB_NAME}",
        "DB_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{services.redis_port}/0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_HOST": "127.0.0.1",
        "DJANGO_EMAIL_PORT": str(services.smtp_port),
        "KEEL_ENV": "development",
        "DJANGO_DEBUG": "0",
        "KEEL_LOG_LEVEL": "WARNING",
        "KEEL_VAR_DIR": str(tmp / "var"),
        "KEEL_AUDIT_LOG_FILE": str(tmp / "audit.log"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }
    os.environ.update(services.env)
    began = time.monotonic()
    started = datetime.now(UTC)
    created = False
    failed = True
    try:
        admin_execute(pg, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin_execute(pg, f'CREATE DATABASE "{DB_NAME}"')
        created = True
        print(f"database {DB_NAME}: migrating …", flush=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=services.env,
            check=True,
            timeout=300,
        )
        import django

        django.setup()
        from django.db import connections

        rng = random.Random(args.seed)
        total = args.crossings + args.latency_crossings + 1
        people = seed(math.ceil(total / WEEKS), now=started)
        every = slots(people, crossing_days(started.date()))
        chaos_crossings = every[: args.crossings]
        latency_crossings = every[args.crossings : args.crossings + args.latency_crossings]
        rollback_crossing = every[args.crossings + args.latency_crossings]
        print(f"seeded {len(people):,} people ({time.monotonic() - began:.0f} s)", flush=True)
        connections.close_all()

        services.start_redis()
        services.start_sink()
        for index in range(WORKERS):
            services.start_worker(index)
        services.start_beat()
        answered = wait_for_workers(WORKERS)
        print(
            f"redis-server on {services.redis_port}, SMTP sink on {services.smtp_port}, {answered} workers answer; "
            f"logs in {tmp}",
            flush=True,
        )
        if answered < WORKERS:
            raise RuntimeError(f"only {answered} of {WORKERS} workers answered a ping: see {tmp}")
        sink = Sink(services.sink_path)

        chaos = chaos_phase(services, args, chaos_crossings, rng)
        connections.close_all()
        latency = latency_phase(services, args, latency_crossings, sink)
        rollback = rollback_check(rollback_crossing, sink, wait=12.0)
        all_writes = chaos.writes + latency.writes
        checks = check_all(all_writes, sink)
        ids = message_ids_by_key({w["key"] for w in chaos.writes})
        outages = [outage_figures(o, chaos.writes, ids, sink) for o in chaos.outages]
        under_kills = fault_latencies(chaos, ids, sink)
        late = late_causes(chaos, ids, sink, services.kill_times)
        text = report(
            args=args,
            chaos=chaos,
            latency=latency,
            rollback=rollback,
            checks=checks,
            outages=outages,
            under_kills=under_kills,
            late=late,
            services=services,
            pg_version=postgres_version(pg),
            started=started,
            elapsed=time.monotonic() - began,
        )
        print()
        print(text)
        if not args.no_docs:
            write_section(text)
            print("\nwrote the chaos-bench section of docs/benchmarks.md")
        failed = not (checks.ok and rollback.ok)
        return 1 if failed else 0
    finally:
        signal.alarm(0)
        for process in _WRITERS:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        services.stop_all()
        if "django" in sys.modules:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
        if created:
            with contextlib.suppress(Exception):
                admin_execute(pg, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if args.keep_logs or failed:
            print(f"logs kept in {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
