import time

from celery import shared_task
from django.utils import timezone

from backend.alerts.services import alerts_escalate_overdue, outbox_relay_once, tenure_reviews_fire

RELAY_BUDGET_SECONDS = 50


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Sends what the outbox holds. Kicked on commit and run by beat every few seconds; leases make two
    relays at once harmless, and a redelivered task only finds nothing left to send."""
    sent, started = 0, time.monotonic()
    while time.monotonic() - started < RELAY_BUDGET_SECONDS:
        handled = outbox_relay_once(now=timezone.now())
        sent += handled
        if handled == 0:
            break
    return sent


@shared_task(acks_late=True, ignore_result=True)
def escalate_alerts() -> int:
    return alerts_escalate_overdue(now=timezone.now())


@shared_task(acks_late=True, ignore_result=True)
def fire_tenure_reviews() -> int:
    return tenure_reviews_fire(now=timezone.now())
