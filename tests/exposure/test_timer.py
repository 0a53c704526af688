from datetime import timedelta

import pytest
from django.utils import timezone

from backend.exposure.models import ExposureRecord, Timer
from backend.exposure.services import timers_close_overdue
from tests.conftest import choose

pytestmark = pytest.mark.django_db
TIMER = "/api/v1/exposure/timer/"


@pytest.fixture
def logger(api, personas):  # type: ignore[no-untyped-def]
    choose(personas.investigator, "record")
    return api.as_(personas.investigator)


def shift(person, **delta):  # type: ignore[no-untyped-def]
    """Moves the running timer's clock back, as if time had passed."""
    timer = Timer.objects.get(person=person)
    timer.started_at -= timedelta(**delta)
    if timer.paused_at:
        timer.paused_at -= timedelta(**delta)
    timer.save()


def test_start_pause_resume_stop_writes_a_session_without_the_paused_time(logger, personas):
    assert logger.post(f"{TIMER}start/", {"media_type": "video", "severity": "B"}, format="json").status_code == 200
    shift(personas.investigator, minutes=40)
    assert logger.post(f"{TIMER}pause/").json()["paused"] is True
    shift(personas.investigator, minutes=30)  # 30 minutes paused
    assert logger.post(f"{TIMER}resume/").json()["paused"] is False
    shift(personas.investigator, minutes=20)
    state = logger.get(TIMER).json()
    assert state["running"] and 59 * 60 <= state["active_seconds"] <= 61 * 60
    stopped = logger.post(f"{TIMER}stop/")
    assert stopped.status_code == 201
    record = ExposureRecord.objects.get()
    assert 59 * 60 <= record.seconds <= 61 * 60
    assert (record.ended_at - record.started_at) >= timedelta(minutes=89)
    assert record.source == "timer" and not record.needs_confirmation
    assert logger.get(TIMER).json()["running"] is False


def test_one_running_timer_per_person(logger):
    logger.post(f"{TIMER}start/", {"media_type": "still", "severity": "C"}, format="json")
    again = logger.post(f"{TIMER}start/", {"media_type": "still", "severity": "C"}, format="json")
    assert again.status_code == 409 and Timer.objects.count() == 1


def test_timer_actions_in_the_wrong_state_are_conflicts(logger):
    assert logger.post(f"{TIMER}pause/").status_code == 409
    assert logger.post(f"{TIMER}stop/").status_code == 409
    logger.post(f"{TIMER}start/", {"media_type": "still", "severity": "C"}, format="json")
    assert logger.post(f"{TIMER}resume/").status_code == 409


def test_timer_attributes_are_validated(logger):
    response = logger.post(f"{TIMER}start/", {"media_type": "still", "severity": "Z"}, format="json")
    assert response.status_code == 400 and "severity" in response.json()["errors"] and not Timer.objects.exists()


def test_a_timer_left_running_is_closed_at_16_hours_and_flagged(logger, personas):
    logger.post(f"{TIMER}start/", {"media_type": "text", "severity": "other"}, format="json")
    shift(personas.investigator, hours=17)
    assert timers_close_overdue(now=timezone.now()) == 1
    record = ExposureRecord.objects.get()
    assert record.seconds == 16 * 3600 and record.needs_confirmation
    assert record.ended_at - record.started_at == timedelta(hours=16)
    assert not Timer.objects.exists()
    confirmed = logger.patch(f"/api/v1/exposure/sessions/{record.public_id}/", {"confirmed": True}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["needs_confirmation"] is False


def test_the_sweep_leaves_younger_timers_alone(logger, personas):
    logger.post(f"{TIMER}start/", {"media_type": "text", "severity": "other"}, format="json")
    shift(personas.investigator, hours=15)
    assert timers_close_overdue(now=timezone.now()) == 0 and Timer.objects.count() == 1


def test_no_timer_without_the_record_choice(api, personas):
    response = api.as_(personas.teammate).post(
        f"{TIMER}start/", {"media_type": "still", "severity": "C"}, format="json"
    )
    assert response.status_code == 403 and not Timer.objects.exists()


def test_break_reminder_preferences(logger):
    assert logger.get("/api/v1/exposure/preferences/").json()["break_reminders"] is False
    saved = logger.put(
        "/api/v1/exposure/preferences/", {"break_reminders": True, "break_after_minutes": 45}, format="json"
    )
    assert saved.json() == {"break_reminders": True, "break_after_minutes": 45}
    assert (
        logger.put(
            "/api/v1/exposure/preferences/", {"break_reminders": True, "break_after_minutes": 1}, format="json"
        ).status_code
        == 400
    )


def test_a_session_overlapping_the_running_timer_is_refused_so_the_timer_can_always_stop(logger, personas):
    logger.post(f"{TIMER}start/", {"media_type": "still", "severity": "C"}, format="json")
    shift(personas.investigator, hours=2)
    timer_start = Timer.objects.get().started_at
    body = {
        "started_at": (timer_start + timedelta(minutes=10)).isoformat(),
        "ended_at": (timer_start + timedelta(minutes=40)).isoformat(),
        "media_type": "still",
        "severity": "C",
    }
    refused = logger.post("/api/v1/exposure/sessions/", body, format="json")
    assert refused.status_code == 400 and "running timer" in refused.json()["errors"]["started_at"][0]
    assert logger.post(f"{TIMER}stop/").status_code == 201
