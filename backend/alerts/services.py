from datetime import datetime

from django.db import transaction

from backend.alerts.models import Alert, AlertState
from backend.audit import services as audit
from backend.organisation.models import Person


@transaction.atomic
def alert_raise(
    *, rule: str, person: Person | None, severity: str, dedup_key: str, assignee: Person | None, now: datetime
) -> Alert:
    """Writes an alert exactly once per deduplication key, inside the caller's transaction."""
    alert, _ = Alert.objects.get_or_create(
        dedup_key=dedup_key,
        defaults={"rule": rule, "person": person, "severity": severity, "assignee": assignee, "created_at": now},
    )
    return alert


@transaction.atomic
def alert_close(*, alert: Alert, actor: Person, outcome: str, now: datetime) -> Alert:
    if not outcome:
        raise ValueError("Closing an alert needs an outcome.")
    alert.state, alert.outcome, alert.closed_at = AlertState.CLOSED, outcome, now
    alert.save(update_fields=["state", "outcome", "closed_at"])
    audit.record("alerts.alert.closed", actor=actor, subject=alert.person, object_ref=str(alert.public_id), now=now)
    return alert
