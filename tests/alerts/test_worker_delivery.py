"""Against a real Celery worker: a committed crossing becomes exactly one alert, one notification and one
email with a stable Message-ID, however often the relay runs."""

import email
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from backend.alerts.models import Alert, Notification, OutboxMessage
from tests.conftest import celery_process, choose, stop_process, wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def mail_worker(reference_data, tmp_path):  # type: ignore[no-untyped-def]
    maildir = tmp_path / "mail"
    maildir.mkdir()
    process = celery_process(
        "worker",
        purge=True,
        env={
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": str(maildir),
        },
    )
    yield maildir
    stop_process(process)


def message_ids(maildir: Path) -> list[str]:
    return [email.message_from_string(p.read_text())["Message-ID"] for p in maildir.iterdir()]


def test_a_committed_crossing_is_emailed_once_by_the_worker(mail_worker, personas, api):
    personas.welfare_officer.email = "officer@example.org"
    personas.welfare_officer.save()
    choose(personas.investigator, "record", "welfare")
    start = timezone.now().replace(microsecond=0) - timedelta(hours=6)
    body = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=4, minutes=30)).isoformat(),
        "media_type": "still",
        "severity": "C",
    }
    started = time.monotonic()
    assert api.as_(personas.investigator).post("/api/v1/exposure/sessions/", body, format="json").status_code == 201
    alert = Alert.objects.get(rule="exposure.daily_limit")
    assert Notification.objects.filter(recipient=personas.welfare_officer, alert=alert).count() == 1
    wait_for(lambda: OutboxMessage.objects.filter(state="sent").count() == 1, timeout=60)
    latency = time.monotonic() - started
    ids = wait_for(lambda: message_ids(mail_worker), timeout=30)
    assert ids == [f"<{OutboxMessage.objects.get().public_id}@keel.invalid>"]
    assert latency < 60

    # Redelivery and a second relay (as after a worker crash) send nothing new.
    from backend.celery import app

    for _ in range(3):
        app.send_task("backend.alerts.tasks.relay_outbox")
    time.sleep(3)
    assert len(message_ids(mail_worker)) == 1
    assert Alert.objects.count() == 1 and Notification.objects.filter(alert=alert).count() == 1


def test_a_worker_runs_the_escalation_sweep(mail_worker, personas):
    from tests.conftest import alert_raise

    choose(personas.investigator, "record", "welfare")
    personas.unit.backup_welfare_officer = personas.other_welfare_officer
    personas.unit.save()
    from backend.alerts.models import Alert as AlertModel

    alert = alert_raise(
        rule="exposure.daily_limit",
        person=personas.investigator,
        severity="high",
        dedup_key="w",
        assignee=personas.welfare_officer,
        now=timezone.now() - timedelta(days=5),
    )
    AlertModel.objects.filter(pk=alert.pk).update(ack_due_at=timezone.now() - timedelta(hours=1), unit=personas.unit)
    from backend.celery import app

    app.send_task("backend.alerts.tasks.escalate_alerts")
    wait_for(lambda: AlertModel.objects.get(pk=alert.pk).escalation_round == 1, timeout=60)
    assert AlertModel.objects.get(pk=alert.pk).assignee == personas.other_welfare_officer
