from celery import shared_task
from django.utils import timezone

from backend.checkins.services import check_ins_notify_due


@shared_task(acks_late=True, ignore_result=True)
def notify_due_check_ins() -> int:
    return check_ins_notify_due(now=timezone.now())
