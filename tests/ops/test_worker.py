"""Behaviour that depends on real Celery processes: a worker consuming, beat ticking and writing its heartbeat."""

import pytest
from django.utils import timezone

from backend.ops.models import Heartbeat
from backend.ops.tasks import worker_heartbeat
from tests.conftest import celery_process, stop_process, wait_for

pytestmark = pytest.mark.worker


def test_a_real_worker_runs_queued_tasks(celery_worker):
    started = timezone.now()
    worker_heartbeat.delay()
    beat = wait_for(lambda: Heartbeat.objects.filter(process="worker", beat_at__gte=started).first())
    assert beat.beat_at >= started


def test_a_task_queued_while_no_worker_runs_is_done_when_one_starts(transactional_db):
    from backend.celery import app

    app.control.purge()
    started = timezone.now()
    worker_heartbeat.delay()
    assert not Heartbeat.objects.filter(process="worker").exists()
    process = celery_process("worker")
    try:
        wait_for(lambda: Heartbeat.objects.filter(process="worker", beat_at__gte=started).exists())
    finally:
        stop_process(process)


def test_beat_writes_its_heartbeat_for_status(transactional_db, client, tmp_path):
    process = celery_process("beat", "--schedule", str(tmp_path / "unused"))
    try:
        wait_for(lambda: Heartbeat.objects.filter(process="beat").exists(), timeout=60)
    finally:
        stop_process(process)
    age = client.get("/status").json()["beat_heartbeat_age_seconds"]
    assert age is not None and age < 60


def test_celery_is_configured_for_redelivery_not_loss(settings):
    from backend.celery import app

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for entry in app.conf.beat_schedule.values():
        assert 0 < entry["options"]["expires"] <= entry["schedule"], "periodic tasks must expire before the next run"
