"""The authorization matrix: one row per viewer, relationship, endpoint and method, run against the real
URLs; and a check that no URL of the project is left without rows."""

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from backend.alerts.models import Notification
from backend.consent.services import exclusion_add
from backend.exposure.imports import import_job_create
from backend.exposure.services import RecordInput, exposure_record_create
from backend.organisation.models import Role
from backend.organisation.services import token_create
from tests.conftest import Api, alert_raise, choose
from tests.factories import PersonFactory, RoleFactory

MATRIX = Path(__file__).with_name("matrix.csv")
ROWS = list(csv.DictReader(MATRIX.open()))
# Django's own admin pages are covered by tests/organisation/test_admin.py (administrators only).
UNCOVERED_NAMESPACES = ("admin",)


def _names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace in UNCOVERED_NAMESPACES:
                continue
            names |= _names(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            names.add(p.name or f"<unnamed {p.pattern}>")
    return names


def test_every_url_pattern_has_rows():
    covered = {row["url_name"] for row in ROWS}
    missing = _names(get_resolver().url_patterns) - covered
    assert not missing, f"add rows to {MATRIX.name} for: {sorted(missing)}"


def test_every_api_row_names_anonymous_and_token_clients():
    api_names = {r["url_name"] for r in ROWS if r["url_name"].startswith("api-") and r["url_name"] != "api-docs"}
    for name in api_names:
        viewers = {r["viewer"] for r in ROWS if r["url_name"] == name}
        assert {"anonymous", "token"} <= viewers, name


@pytest.fixture
def world(personas):  # type: ignore[no-untyped-def]
    excluded = PersonFactory(username="excluded-welfare")
    RoleFactory(person=excluded, role=Role.WELFARE_OFFICER, unit=personas.unit)
    choose(personas.investigator, "record", "welfare")
    choose(personas.teammate, "record")
    now = timezone.now()
    exclusion = exclusion_add(person=personas.investigator, officer=excluded, now=now)
    records = {
        kind: exposure_record_create(
            person=personas.investigator,
            data=RecordInput(kind=kind, media_type="still", severity="C", date=now.date(), minutes=10)
            if kind == "day"
            else RecordInput(
                kind=kind,
                media_type="still",
                severity="C",
                started_at=now - timedelta(hours=2),
                ended_at=now - timedelta(hours=1),
            ),
            source="api",
            now=now,
        )
        for kind in ("day", "session")
    }
    people = {name: getattr(personas, name) for name in vars(personas) if hasattr(getattr(personas, name), "username")}
    people["excluded_welfare_officer"] = excluded
    tokens = {
        name: token_create(person=people[name], name="t", scopes=["profile:read", "exposure:write"], now=now)
        for name in people
    }
    alert = alert_raise(
        rule="exposure.daily_limit",
        person=personas.investigator,
        severity="high",
        dedup_key="matrix",
        assignee=personas.welfare_officer,
        now=now,
    )
    notification = Notification.objects.create(
        recipient=personas.investigator, kind="nudge", title="t", dedup_key="matrix", created_at=now
    )
    return {
        "people": people,
        "tokens": tokens,
        "exclusion": exclusion,
        "records": records,
        "unit": personas.unit,
        "alert": alert,
        "notification": notification,
        "import_job": import_job_create(person=personas.investigator, now=now),
    }


def _url(row: dict[str, str], world: dict[str, Any]) -> str:
    viewer = "investigator" if row["viewer"] in ("token", "anonymous") else row["viewer"]
    target = viewer if row["target"] == "self" else row["target"]
    kwargs: dict[str, Any] = {}
    name = row["url_name"]
    if name in ("api-person-record", "person-record"):
        kwargs["person_id"] = world["people"][target].public_id
    elif name in ("api-token-detail", "token-revoke"):
        kwargs["token_id"] = world["tokens"][target][0].public_id
    elif name == "api-exclusion-detail":
        kwargs["exclusion_id"] = world["exclusion"].public_id
    elif row["target"] == "alert":
        kwargs["alert_id"] = world["alert"].public_id
    elif name == "api-notification-read":
        kwargs["notification_id"] = world["notification"].public_id
    elif row["target"] == "unit":
        kwargs["unit_id"] = world["unit"].public_id
    elif name == "api-exposure-import-detail":
        kwargs["job_id"] = world["import_job"].public_id
    elif name in ("log-record-edit", "log-record-delete"):
        kwargs["record_id"] = world["records"]["day"].public_id
    elif name in ("api-session-detail", "api-day-entry-detail"):
        kwargs["record_id"] = world["records"]["session" if name == "api-session-detail" else "day"].public_id
    return reverse(name, kwargs=kwargs)


GROUPS: dict[tuple[str, str, str], list[dict[str, str]]] = {}
for _row in ROWS:
    GROUPS.setdefault((_row["url_name"], _row["method"], _row["target"]), []).append(_row)


def _request(row: dict[str, str], world: dict[str, Any]) -> int:
    client = Api()
    headers = {}
    if row["viewer"] == "token":
        headers["HTTP_AUTHORIZATION"] = f"Token {world['tokens']['investigator'][1]}"
    elif row["viewer"] != "anonymous":
        client.force_login(world["people"][row["viewer"]])
    url = _url(row, world)
    method = getattr(client, row["method"].lower())
    has_body = row["method"] in ("POST", "PATCH", "PUT")
    response = method(url, {}, format="json", **headers) if has_body else method(url, **headers)
    return int(response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("group", list(GROUPS), ids=lambda g: f"{g[1]} {g[0]} →{g[2]}")
def test_matrix_rows(group, world):
    """Every row of one endpoint, method and target; each request in a savepoint rolled back after it, so
    one viewer's write never changes what the next viewer meets."""
    wrong = []
    for row in GROUPS[group]:
        with transaction.atomic():
            status = _request(row, world)
            transaction.set_rollback(True)
        if status != int(row["expected"]):
            wrong.append(f"{row['viewer']}: expected {row['expected']}, got {status}")
    assert not wrong, f"{group}: " + "; ".join(wrong)
