"""Managers and administrators never receive a person's exposure or health values, from any endpoint."""

import json
from typing import Any

import pytest
from django.utils import timezone

from backend.exposure.services import RecordInput, exposure_record_create
from tests.authz.test_matrix import ROWS, _url
from tests.conftest import Api, alert_raise, choose

# Keys that carry an individual's exposure, health or sharing state. Later capabilities extend this.
FORBIDDEN_KEYS = {
    "minutes",
    "dose",
    "score",
    "total",
    "band",
    "answers",
    "critical",
    "severity",
    "rule",
    "choices",
    "welfare",
    "rota_signal",
    "got_to_me",
    "unexpected",
    "items",
    "exposed_tenure_days",
}
MARKER_RULE = "limit.weekly.marker"


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *[d for v in value.values() for d in _dicts(v)]]
    if isinstance(value, list):
        return [d for v in value for d in _dicts(v)]
    return []


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["manager", "admin"])
def test_manager_and_administrator_responses_carry_no_person_keyed_values(personas, viewer):
    subject = personas.investigator
    choose(subject, "record", "welfare", "rota-signal")
    alert_raise(
        rule=MARKER_RULE,
        person=subject,
        severity="high",
        dedup_key="m",
        assignee=personas.welfare_officer,
        now=timezone.now(),
    )
    now = timezone.now()
    day = RecordInput(kind="day", media_type="video", severity="A", got_to_me=True, date=now.date(), minutes=123)
    record = exposure_record_create(person=subject, data=day, source="api", now=now)
    world = {
        "people": {"investigator": subject, "teammate": personas.teammate, viewer: getattr(personas, viewer)},
        "tokens": {},
        "exclusion": None,
        "records": {"day": record, "session": record},
        "unit": personas.unit,
    }
    client = Api().as_(getattr(personas, viewer))
    checked = 0
    for row in ROWS:
        if row["viewer"] != viewer or row["method"] != "GET" or row["expected"] != "200" or "token" in row["url_name"]:
            continue
        response = client.get(_url(row, world))
        text = response.content.decode()
        assert MARKER_RULE not in text, row["url_name"]
        assert str(record.public_id) not in text, row["url_name"]
        if response["Content-Type"].startswith("application/json"):
            for d in _dicts(json.loads(text)):
                about_subject = str(subject.public_id) in map(str, d.values()) or subject.name in map(str, d.values())
                assert not (about_subject and FORBIDDEN_KEYS & set(d)), (
                    f"{row['url_name']} leaks {FORBIDDEN_KEYS & set(d)}"
                )
        checked += 1
    assert checked >= 10
