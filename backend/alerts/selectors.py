from datetime import datetime, timedelta

from django.db.models import Case, F, QuerySet, When

from backend.alerts.deadlines import CoveredHours
from backend.alerts.models import Alert, AlertState, Notification, OnCallShift, OutboxMessage, OutboxState
from backend.organisation.models import Person, Role, Unit
from backend.organisation.selectors import has_role, organisation_get


def outbox_oldest_unsent_age(*, now: datetime) -> float | None:
    """Seconds since the oldest message still waiting to leave was written, or None when none waits."""
    oldest = (
        OutboxMessage.objects.filter(state=OutboxState.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


SEVERITY_RANK = Case(When(severity="urgent", then=0), When(severity="high", then=1), default=2)


def alerts_visible_to(viewer: Person) -> QuerySet[Alert]:
    """A handler sees the alerts assigned to them; the welfare lead sees every alert. Most urgent first."""
    alerts = Alert.objects.all() if has_role(viewer, Role.WELFARE_LEAD) else Alert.objects.filter(assignee=viewer)
    return (
        alerts.select_related("person", "assignee")
        .prefetch_related("events")
        .annotate(rank=SEVERITY_RANK, is_closed=Case(When(state=AlertState.CLOSED, then=1), default=0))
        .order_by("is_closed", "rank", "ack_due_at", "created_at")
    )


def notifications_of(person: Person) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=person).order_by(F("read_at").asc(nulls_first=True), "-created_at")


def unread_count(person: Person) -> int:
    return Notification.objects.filter(recipient=person, read_at__isnull=True).count()


def on_call_gaps(*, now: datetime, days: int = 7) -> list[dict[str, object]]:
    """Units with urgent routing but nobody on call for part of the coming week outside covered hours."""
    covered = CoveredHours(organisation_get())
    gaps = []
    for unit in Unit.objects.order_by("name"):
        shifts = list(
            OnCallShift.objects.filter(unit=unit, ends_at__gt=now, starts_at__lt=now + timedelta(days=days))
            .order_by("starts_at")
            .values_list("starts_at", "ends_at")
        )
        cursor, uncovered = now, timedelta()
        step = timedelta(minutes=30)
        while cursor < now + timedelta(days=days):
            if not covered.is_covered(cursor) and not any(s <= cursor < e for s, e in shifts):
                uncovered += step
            cursor += step
        if uncovered:
            gaps.append({"unit": unit, "uncovered_hours": round(uncovered.total_seconds() / 3600, 1)})
    return gaps


def alerts_handled_by(viewer: Person) -> QuerySet[Alert]:
    """Alerts assigned to the viewer. The handler keeps seeing an open alert whatever its subject later chooses."""
    return Alert.objects.filter(assignee=viewer).select_related("person").order_by("state", "-created_at")


def alerts_about(person: Person) -> QuerySet[Alert]:
    return Alert.objects.filter(person=person).order_by("-created_at")


def open_alerts_about(person: Person) -> QuerySet[Alert]:
    return alerts_about(person).exclude(state=AlertState.CLOSED)
