from datetime import datetime

from backend.ops.models import Heartbeat


def heartbeat_write(*, process: str, now: datetime) -> None:
    Heartbeat.objects.update_or_create(process=process, defaults={"beat_at": now})
