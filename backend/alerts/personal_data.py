from datetime import datetime
from typing import Any

from backend.alerts.models import AlertState, Notification, NotificationKind
from backend.alerts.selectors import alerts_about
from backend.common.privacy_spec import PersonalData
from backend.organisation.models import Person


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "rule": a.rule,
            "severity": a.severity,
            "state": a.state,
            "outcome": a.outcome,
            "raised_at": a.created_at.isoformat(),
            "closed_at": a.closed_at and a.closed_at.isoformat(),
        }
        for a in alerts_about(person)
    ]


def _erase(person: Person, now: datetime) -> int:
    """Closed alerts go with the record; open ones are duty-of-care records and stay until closed."""
    closed = alerts_about(person).filter(state=AlertState.CLOSED)
    count = closed.count()
    closed.delete()  # their events and notifications go with them
    return count


def _notifications(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "at": n.created_at.isoformat(),
            "read": n.read_at is not None,
        }
        for n in Notification.objects.filter(recipient=person).order_by("created_at")
    ]


def _erase_notifications(person: Person, now: datetime) -> int:
    """The person's own nudges and check-in prompts; alerts they handle for others are not theirs to erase."""
    mine = Notification.objects.filter(recipient=person).exclude(kind=NotificationKind.ALERT)
    count = mine.count()
    mine.delete()
    return count


PERSONAL_DATA = [
    PersonalData(
        name="alerts.notifications",
        description="Your in-app notifications: nudges, check-in prompts and alerts you handle.",
        export=_notifications,
        erase=_erase_notifications,
    ),
    PersonalData(
        name="alerts.alerts",
        description="Alerts raised about you, their state and outcome.",
        export=_export,
        erase=_erase,
    ),
]
