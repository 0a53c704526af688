"""Personas, clients and service checks shared by the whole suite.

A test that needs PostgreSQL, Redis, a worker or Chromium skips with a printed reason when the
service is missing, unless KEEL_REQUIRE_SERVICES=1 (as in CI), which turns that skip into a failure.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from backend.organisation.models import Person, Role
from tests.factories import MembershipFactory, PersonFactory, RoleFactory, TeamFactory, UnitFactory

REQUIRE_SERVICES = os.environ.get("KEEL_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("KEEL_CHROMIUM", "/usr/bin/chromium")


def missing_service(reason: str) -> None:
    """Skip (fresh machine) or fail (CI) a test whose service is not there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"KEEL_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def postgres(db: Any) -> None:
    if connection.vendor != "postgresql":
        missing_service("needs PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture(scope="session")
def redis_broker() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        missing_service("needs Redis (set CELERY_BROKER_URL=redis://…)")
    return url


@dataclass
class Personas:
    unit: Any
    other_unit: Any
    team: Any
    other_team: Any
    investigator: Person
    teammate: Person
    outsider: Person
    manager: Person
    welfare_officer: Person
    other_welfare_officer: Person
    clinician: Person
    lead: Person
    dpo: Person
    admin: Person


@pytest.fixture
def personas(db: Any) -> Personas:
    unit, other_unit = UnitFactory(name="Image Assessment"), UnitFactory(name="Digital Forensics")
    team, other_team = TeamFactory(unit=unit, name="Grading"), TeamFactory(unit=other_unit, name="Devices")

    def person(username: str, role: Role, **scope: Any) -> Person:
        p = PersonFactory(username=username)
        RoleFactory(person=p, role=role, **scope)
        return p

    investigator = person("investigator", Role.INVESTIGATOR)
    teammate = person("teammate", Role.INVESTIGATOR)
    outsider = person("outsider", Role.INVESTIGATOR)
    MembershipFactory(person=investigator, team=team)
    MembershipFactory(person=teammate, team=team)
    MembershipFactory(person=outsider, team=other_team)
    manager = person("manager", Role.MANAGER, team=team)
    MembershipFactory(person=manager, team=team)
    return Personas(
        unit=unit,
        other_unit=other_unit,
        team=team,
        other_team=other_team,
        investigator=investigator,
        teammate=teammate,
        outsider=outsider,
        manager=manager,
        welfare_officer=person("welfare", Role.WELFARE_OFFICER, unit=unit),
        other_welfare_officer=person("welfare2", Role.WELFARE_OFFICER, unit=other_unit),
        clinician=person("clinician", Role.CLINICIAN, unit=unit),
        lead=person("lead", Role.WELFARE_LEAD),
        dpo=person("dpo", Role.DPO),
        admin=person("admin", Role.ADMINISTRATOR),
    )


class Api(APIClient):
    def as_(self, person: Person | None) -> "Api":
        client = Api()
        if person is not None:
            client.force_login(person)
        return client


@pytest.fixture
def api() -> Api:
    return Api()


# Browser tests: Debian's Chromium through Playwright, never a downloaded browser.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        missing_service(f"needs Chromium at {CHROMIUM} (apt-get install chromium, or set KEEL_CHROMIUM)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture(autouse=True)
def _isolated_settings(settings: Any) -> None:
    settings.KEEL_DEMO = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    settings.WHITENOISE_AUTOREFRESH = True  # no scan of every static file each time a test client starts
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()  # throttling counts live in the cache


def pytest_configure(config: Any) -> None:
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)


# A real Celery worker (and beat) in subprocesses, sharing the test database and the broker.
def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def celery_process(
    kind: str, *extra: str, purge: bool = False, env: dict[str, str] | None = None
) -> "subprocess.Popen[bytes]":
    from backend.celery import app

    broker_dir = Path(settings.CELERY_BROKER_DIR)
    for folder in ("data", "processed", "control"):
        (broker_dir / folder).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "KEEL_VAR_DIR": str(settings.VAR_DIR),
        **(env or {}),
    }
    if purge:
        app.control.purge()
    if kind == "worker":
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backend",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
            "-n",
            f"test-{os.getpid()}@%h",
            *extra,
        ]
    else:
        cmd = [sys.executable, "-m", "celery", "-A", "backend", "beat", "--loglevel", "WARNING", *extra]
    return subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR)


def stop_process(process: "subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def celery_worker(transactional_db: Any) -> Any:
    restore_reference_data()
    process = celery_process("worker", purge=True)
    yield process
    stop_process(process)


def wait_for(predicate: Any, *, timeout: float = 60.0, interval: float = 0.2) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def choose(person: Person, *choices: str) -> None:
    """Gives the named choices in order through the real service, against the current notice."""
    from django.utils import timezone

    from backend.consent.selectors import notice_current
    from backend.consent.services import choice_set

    notice = notice_current()
    assert notice is not None
    for choice in choices:
        choice_set(
            person=person, choice=choice, given=True, notice_version=notice.version, channel="api", now=timezone.now()
        )


@pytest.fixture
def notice_version(db: Any) -> int:
    from backend.consent.selectors import notice_current

    notice = notice_current()
    assert notice is not None
    return notice.version


def alert_raise(
    *, rule: str, person: Person | None, severity: str, dedup_key: str, assignee: Person | None, now: Any
) -> Any:
    """An alert row as the engine would leave it, for tests about what happens to alerts afterwards."""
    from backend.alerts.models import Alert

    alert, _ = Alert.objects.get_or_create(
        dedup_key=dedup_key,
        defaults={
            "rule": rule,
            "person": person,
            "severity": severity,
            "assignee": assignee,
            "created_at": now,
            "ack_due_at": now,
        },
    )
    return alert


def restore_reference_data() -> None:
    """Transactional tests flush the tables, including rows that migrations create (the organisation, the
    first notice, the severity taxonomy and weights): put them back exactly as the migrations do."""
    from importlib import import_module

    from django.apps import apps

    for module, function in (
        ("backend.organisation.migrations.0002_default_organisation", "create_default"),
        ("backend.consent.migrations.0002_first_notice", "publish"),
        ("backend.exposure.migrations.0002_default_taxonomy_and_weights", "create_defaults"),
    ):
        getattr(import_module(module), function)(apps, None)


@pytest.fixture
def reference_data(transactional_db: Any) -> None:
    restore_reference_data()
