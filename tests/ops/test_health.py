import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from backend.alerts.models import OutboxMessage
from backend.ops.services import heartbeat_write

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db.backends.base import base

    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr(base.BaseDatabaseWrapper, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_a_broker_outage_does_not_take_the_web_tier_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert client.get("/healthz").status_code == 200
    status = client.get("/status").json()
    assert status["database"] == "ok"
    assert status["broker"] == "unavailable"


def test_status_reports_outbox_age_and_heartbeats(client):
    now = timezone.now()
    OutboxMessage.objects.create(kind="email", dedup_key="a", created_at=now - timedelta(seconds=90))
    OutboxMessage.objects.create(kind="email", dedup_key="b", created_at=now - timedelta(seconds=900), state="sent")
    heartbeat_write(process="beat", now=now - timedelta(seconds=20))
    body = client.get("/status").json()
    assert 89 <= body["outbox_oldest_unsent_seconds"] < 120
    assert 19 <= body["beat_heartbeat_age_seconds"] < 60
    assert body["worker_heartbeat_age_seconds"] is None
    assert set(body) >= {"database", "broker"}


def test_status_holds_no_personal_data(client, personas):
    text = client.get("/status").content.decode()
    for person in (personas.investigator, personas.manager):
        assert person.username not in text and str(person.public_id) not in text


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "KEEL_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-for-the-check" + "y" * 20,
        "DJANGO_ALLOWED_HOSTS": "keel.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/deploy.sqlite3",
        "KEEL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "KEEL_ENV": "production", "KEEL_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_the_demo_switch(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "KEEL_ENV": "production",
        "KEEL_DEMO": "true",
        "DJANGO_SECRET_KEY": "s" * 60,
        "KEEL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0 and "KEEL_DEMO" in result.stderr
