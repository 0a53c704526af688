"""Health for load balancers (/healthz) and state for operators (/status). No personal data."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from backend.alerts.selectors import outbox_oldest_unsent_age
from backend.ops.selectors import database_ok, heartbeat_age


def broker_ok() -> bool:
    try:
        with Connection(settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The web tier is healthy when it can reach its database; a broker outage must not take it down."""
    ok = database_ok()
    return JsonResponse({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)


@require_GET
@never_cache
def status(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    db = database_ok()
    body = {
        "database": "ok" if db else "unavailable",
        "broker": "ok" if broker_ok() else "unavailable",
        "outbox_oldest_unsent_seconds": outbox_oldest_unsent_age(now=now) if db else None,
        "beat_heartbeat_age_seconds": heartbeat_age("beat", now=now) if db else None,
        "worker_heartbeat_age_seconds": heartbeat_age("worker", now=now) if db else None,
        "checked_at": now.isoformat(),
    }
    return JsonResponse(body, status=200 if db else 503)
