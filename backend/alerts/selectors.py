from datetime import datetime

from backend.alerts.models import OutboxMessage, OutboxState


def outbox_oldest_unsent_age(*, now: datetime) -> float | None:
    """Seconds since the oldest message still waiting to leave was written, or None when none waits."""
    oldest = (
        OutboxMessage.objects.filter(state=OutboxState.PENDING)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())
