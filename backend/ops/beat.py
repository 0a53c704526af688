"""Beat is a single point of failure, so it writes a heartbeat that /status reports."""

import time
from typing import Any

from django.db import close_old_connections
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from backend.ops.services import heartbeat_write

HEARTBEAT_EVERY = 10.0


class HeartbeatScheduler(DatabaseScheduler):
    _last_heartbeat = 0.0

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_EVERY:
            close_old_connections()
            heartbeat_write(process="beat", now=timezone.now())
            self._last_heartbeat = time.monotonic()
        interval: float = super().tick(*args, **kwargs)
        return min(interval, HEARTBEAT_EVERY)
