"""The logging API: every rule, rejected with a field message and nothing stored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.audit.models import AuditEntry
from backend.exposure.models import DayRollup, ExposureRecord, PeriodRollup
from backend.exposure.selectors import organisation_tz
from backend.organisation.services import token_create
from tests.conftest import choose

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/exposure/sessions/"
DAYS = "/api/v1/exposure/day-entries/"


@pytest.fixture
def logger(api, personas):  # type: ignore[no-untyped-def]
    choose(personas.investigator, "record")
    return api.as_(personas.investigator)


def iso(moment):  # type: ignore[no-untyped-def]
    return moment.isoformat()


def session(start_ago=timedelta(hours=3), length=timedelta(hours=1), **extra):  # type: ignore[no-untyped-def]
    start = timezone.now().replace(microsecond=0) - start_ago
    return {
        "started_at": iso(start),
        "ended_at": iso(start + length),
        "media_type": "video",
        "severity": "A",
        "audio": True,
        **extra,
    }


def today():  # type: ignore[no-untyped-def]
    return timezone.now().astimezone(organisation_tz()).date()


def assert_rejected(response, field):  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    return body


def test_a_session_returns_id_minutes_and_dose(logger, personas):
    response = logger.post(SESSIONS, session(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["minutes"] == 60 and body["dose"] == 270.0  # 60 × video 1.5 × A 2.0 × audio 1.5
    record = ExposureRecord.objects.get(public_id=body["id"])
    assert record.person == personas.investigator and record.source == "api"
    assert record.team == personas.team and record.unit == personas.unit
    assert DayRollup.objects.get().seconds == 3600
    assert PeriodRollup.objects.filter(period="week").get().dose_milli == 270_000


def test_a_day_entry_logs_minutes_for_a_date(logger):
    body = {"date": str(today()), "minutes": 90, "media_type": "still", "severity": "C", "safeguards": ["greyscale"]}
    response = logger.post(DAYS, body, format="json")
    assert response.status_code == 201
    assert response.json()["minutes"] == 90 and response.json()["dose"] == 90.0
    assert response.json()["safeguards"] == ["greyscale"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (session(length=timedelta(0)), "ended_at"),
        (session(length=-timedelta(minutes=5)), "ended_at"),
        (session(start_ago=-timedelta(hours=1)), "started_at"),
        (session(start_ago=timedelta(hours=20), length=timedelta(hours=16, minutes=1)), "ended_at"),
        ({**session(), "media_type": "hologram"}, "media_type"),
        ({**session(), "severity": "Z"}, "severity"),
        ({**session(), "safeguards": ["earplugs"]}, "safeguards[0]"),
        ({**session(), "items": -1}, "items"),
        ({**session(), "items": 10_000_000}, "items"),
        ({**session(), "started_at": "2026-11-01T09:00:00"}, "started_at"),
        ({**session(), "started_at": "yesterday"}, "started_at"),
        ({k: v for k, v in session().items() if k != "media_type"}, "media_type"),
    ],
)
def test_bad_sessions_are_rejected_with_a_field_message_and_nothing_stored(logger, body, field):
    assert_rejected(logger.post(SESSIONS, body, format="json"), field)
    assert ExposureRecord.objects.count() == 0 and DayRollup.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": 30, "media_type": "still", "severity": "C"}, "date"),
        ({"date": "2099-01-01", "minutes": 30, "media_type": "still", "severity": "C"}, "date"),
        ({"date": "TODAY", "minutes": 30, "media_type": "still", "severity": "C"}, "minutes"),
        ({"date": "TODAY", "minutes": 0, "media_type": "still", "severity": "C"}, "minutes"),
        ({"date": "TODAY", "minutes": 961, "media_type": "still", "severity": "C"}, "minutes"),
    ],
)
def test_bad_day_entries_are_rejected(logger, body, field):
    body = {k: (str(today()) if v == "TODAY" else v) for k, v in body.items()}
    if field == "minutes" and "minutes" in body and 1 <= body["minutes"] <= 960:
        body["minutes"] = "lots"
    assert_rejected(logger.post(DAYS, body, format="json"), field)
    assert ExposureRecord.objects.count() == 0


def test_overlapping_sessions_are_refused(logger):
    assert logger.post(SESSIONS, session(), format="json").status_code == 201
    overlap = session(start_ago=timedelta(hours=2, minutes=30))
    assert_rejected(logger.post(SESSIONS, overlap, format="json"), "started_at")
    touching = session(start_ago=timedelta(hours=2))  # starts exactly when the first ended
    assert logger.post(SESSIONS, touching, format="json").status_code == 201
    assert ExposureRecord.objects.count() == 2


def test_a_day_over_16_hours_in_total_is_refused(logger):
    day = str(today() - timedelta(days=1))
    assert (
        logger.post(
            DAYS, {"date": day, "minutes": 900, "media_type": "still", "severity": "C"}, format="json"
        ).status_code
        == 201
    )
    body = assert_rejected(
        logger.post(DAYS, {"date": day, "minutes": 61, "media_type": "text", "severity": "C"}, format="json"), "minutes"
    )
    assert "16" in body["errors"]["minutes"][0]
    assert ExposureRecord.objects.count() == 1


def test_the_person_needs_the_record_choice(api, personas):
    response = api.as_(personas.teammate).post(SESSIONS, session(), format="json")
    assert response.status_code == 403
    assert "record" in response.json()["detail"] and "/choices/" in response.json()["detail"]
    assert ExposureRecord.objects.count() == 0


def test_an_oversized_body_is_refused(logger, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500
    response = logger.post(SESSIONS, {**session(), "padding": "x" * 2000}, format="json")
    assert response.status_code == 413 and ExposureRecord.objects.count() == 0


def test_idempotency_key_returns_the_first_result_and_stores_nothing_new(logger):
    first = logger.post(SESSIONS, session(), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = logger.post(SESSIONS, session(), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert ExposureRecord.objects.count() == 1
    different = logger.post(
        SESSIONS, session(start_ago=timedelta(hours=6)), format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert different.status_code == 409
    assert ExposureRecord.objects.count() == 1


def test_a_failed_request_does_not_burn_its_idempotency_key(logger):
    bad = logger.post(SESSIONS, {**session(), "severity": "Z"}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bad.status_code == 400
    good = logger.post(SESSIONS, session(), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert good.status_code == 201  # the rejected request stored nothing, not even its key


def test_a_batch_is_atomic_and_names_every_bad_row(logger):
    good = {"kind": "day", "date": str(today()), "minutes": 30, "media_type": "still", "severity": "C"}
    rows = [
        good,
        {**good, "severity": "Z"},
        {**good, "minutes": 10},
        {"kind": "session", "media_type": "video", "severity": "A"},
    ]
    response = logger.post("/api/v1/exposure/batch/", {"records": rows}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "records[1].severity" in errors and "records[3].started_at" in errors
    assert not any(k.startswith("records[0]") or k.startswith("records[2]") for k in errors)
    assert ExposureRecord.objects.count() == 0 and DayRollup.objects.count() == 0


def test_a_batch_checks_rows_against_each_other(logger):
    a = {"kind": "session", **session()}
    response = logger.post("/api/v1/exposure/batch/", {"records": [a, a]}, format="json")
    assert response.status_code == 400 and "records[1].started_at" in response.json()["errors"]
    assert ExposureRecord.objects.count() == 0


def test_a_good_batch_stores_everything(logger):
    rows = [{"kind": "session", **session(start_ago=timedelta(hours=h))} for h in (2, 4, 6)]
    rows.append(
        {
            "kind": "day",
            "date": str(today() - timedelta(days=2)),
            "minutes": 45,
            "media_type": "text",
            "severity": "other",
        }
    )
    response = logger.post("/api/v1/exposure/batch/", {"records": rows}, format="json")
    assert response.status_code == 201 and len(response.json()["records"]) == 4
    assert ExposureRecord.objects.count() == 4


def test_a_batch_is_limited_to_500_records(logger):
    rows = [{"kind": "day", "date": str(today()), "minutes": 1, "media_type": "still", "severity": "C"}] * 501
    response = logger.post("/api/v1/exposure/batch/", {"records": rows}, format="json")
    assert response.status_code == 400 and ExposureRecord.objects.count() == 0


def test_list_shows_only_the_callers_records_filtered_by_date(logger, api, personas):
    choose(personas.teammate, "record")
    api.as_(personas.teammate).post(SESSIONS, session(), format="json")
    logger.post(SESSIONS, session(), format="json")
    logger.post(SESSIONS, session(start_ago=timedelta(days=3)), format="json")
    mine = logger.get(SESSIONS).json()
    assert mine["count"] == 2
    recent = logger.get(f"{SESSIONS}?date_from={today() - timedelta(days=1)}").json()
    assert recent["count"] <= 2 and all(r["date"] >= str(today() - timedelta(days=1)) for r in recent["results"])
    assert logger.get(f"{SESSIONS}?date_from=notadate").status_code == 400


def test_own_records_can_be_changed_and_deleted_within_7_days_audited(logger, personas):
    created = logger.post(SESSIONS, session(), format="json").json()
    url = f"{SESSIONS}{created['id']}/"
    changed = logger.patch(url, {"severity": "C", "audio": False}, format="json")
    assert changed.status_code == 200 and changed.json()["dose"] == 90.0
    assert DayRollup.objects.get().dose_milli == 90_000
    assert logger.delete(url).status_code == 204
    assert ExposureRecord.objects.count() == 0 and DayRollup.objects.count() == 0 and PeriodRollup.objects.count() == 0
    actions = set(
        AuditEntry.objects.filter(subject_id=personas.investigator.public_id).values_list("action", flat=True)
    )
    assert {"exposure.record.changed", "exposure.record.deleted"} <= actions


def test_a_change_must_still_obey_the_rules(logger):
    created = logger.post(SESSIONS, session(), format="json").json()
    other = logger.post(SESSIONS, session(start_ago=timedelta(hours=6)), format="json").json()
    url = f"{SESSIONS}{other['id']}/"
    response = logger.patch(url, {"started_at": created["started_at"], "ended_at": created["ended_at"]}, format="json")
    assert response.status_code == 400 and "started_at" in response.json()["errors"]
    assert logger.get(url).json()["started_at"] == other["started_at"]


def test_records_older_than_7_days_are_fixed(logger):
    created = logger.post(
        DAYS,
        {"date": str(today() - timedelta(days=8)), "minutes": 30, "media_type": "still", "severity": "C"},
        format="json",
    ).json()
    url = f"{DAYS}{created['id']}/"
    assert logger.patch(url, {"minutes": 20}, format="json").status_code == 400
    assert logger.delete(url).status_code == 400
    assert ExposureRecord.objects.count() == 1


def test_someone_elses_record_is_not_found(logger, api, personas):
    created = logger.post(SESSIONS, session(), format="json").json()
    choose(personas.teammate, "record")
    other = api.as_(personas.teammate)
    assert other.get(f"{SESSIONS}{created['id']}/").status_code == 404
    assert other.delete(f"{SESSIONS}{created['id']}/").status_code == 404
    assert ExposureRecord.objects.count() == 1


def test_a_review_tool_token_writes_for_its_owner_and_reads_nothing(api, personas):
    choose(personas.investigator, "record")
    _, key = token_create(person=personas.investigator, name="grader", scopes=["exposure:write"], now=timezone.now())
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    response = api.post(SESSIONS, session(), format="json", **auth)
    assert response.status_code == 201
    assert ExposureRecord.objects.get().source == "token"
    assert api.get(SESSIONS, **auth).status_code == 403
    assert api.get("/api/v1/exposure/summary/", **auth).status_code == 403
    assert api.patch(f"{SESSIONS}{response.json()['id']}/", {"severity": "C"}, format="json", **auth).status_code == 403


def test_a_token_without_exposure_write_cannot_log(api, personas):
    choose(personas.investigator, "record")
    _, key = token_create(person=personas.investigator, name="reader", scopes=["profile:read"], now=timezone.now())
    response = api.post(SESSIONS, session(), format="json", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 403 and ExposureRecord.objects.count() == 0


def test_summary_shows_minutes_by_kind_of_material_against_limits(logger):
    logger.post(SESSIONS, session(length=timedelta(minutes=150)), format="json")
    logger.post(DAYS, {"date": str(today()), "minutes": 50, "media_type": "still", "severity": "C"}, format="json")
    body = logger.get("/api/v1/exposure/summary/?period=day").json()
    assert body["by_media_type"]["video"]["minutes"] == 150 and body["by_media_type"]["still"]["minutes"] == 50
    assert body["minutes"] == 200 and body["limit_minutes"] == 240
    assert body["over_early_warning"] is True and body["over_limit"] is False
    assert logger.get("/api/v1/exposure/summary/?period=year").status_code == 400


def test_taxonomy_lists_the_organisations_categories(logger):
    body = logger.get("/api/v1/exposure/taxonomy/").json()
    assert [s["code"] for s in body["severities"]] == ["A", "B", "C", "other"]
    assert {m["code"] for m in body["media_types"]} == {"still", "video", "audio", "text", "live"}
