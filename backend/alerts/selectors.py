from datetime import datetime

from django.db.models import QuerySet

from backend.alerts.models import Alert, AlertState, OutboxMessage, OutboxState
from backend.organisation.models import Person


def outbox_oldest_unsent_age(*, now: datetime) -> float | None:
    """Seconds since the oldest message still waiting to leave was written, or None when none waits."""
    oldest = (
        OutboxMessage.objects.filter(state=OutboxState.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


def alerts_handled_by(viewer: Person) -> QuerySet[Alert]:
    """Alerts assigned to the viewer. The handler keeps seeing an open alert whatever its subject later chooses."""
    return Alert.objects.filter(assignee=viewer).select_related("person").order_by("state", "-created_at")


def alerts_about(person: Person) -> QuerySet[Alert]:
    return Alert.objects.filter(person=person).order_by("-created_at")


def open_alerts_about(person: Person) -> QuerySet[Alert]:
    return alerts_about(person).exclude(state=AlertState.CLOSED)
