from celery import shared_task
from django.utils import timezone

from backend.ops.services import heartbeat_write


@shared_task(acks_late=True, ignore_result=True)
def worker_heartbeat() -> None:
    """Queued by beat: proves a worker is consuming, not only that beat is ticking."""
    heartbeat_write(process="worker", now=timezone.now())
