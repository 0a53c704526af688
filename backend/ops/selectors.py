from datetime import datetime

from django.db import connection

from backend.ops.models import Heartbeat


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def heartbeat_age(process: str, *, now: datetime) -> float | None:
    beat_at = Heartbeat.objects.filter(process=process).values_list("beat_at", flat=True).first()
    return None if beat_at is None else max(0.0, (now - beat_at).total_seconds())
