from celery import shared_task
from django.utils import timezone

from backend.exposure import import_tasks  # noqa: F401 - Celery discovers only <app>.tasks
from backend.exposure.services import timers_close_overdue


@shared_task(acks_late=True, ignore_result=True)
def close_overdue_timers() -> int:
    """Beat runs this every few minutes: a timer left running past 16 hours is closed at 16 hours and
    flagged for the person to confirm. Safe to run twice: a closed timer no longer exists."""
    return timers_close_overdue(now=timezone.now())
