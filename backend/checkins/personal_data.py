from datetime import datetime
from typing import Any

from backend.checkins.models import DueCheckIn, FollowUp
from backend.common.privacy_spec import PersonalData
from backend.organisation.models import Person


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "kind": c.kind,
            "due_at": c.due_at.isoformat(),
            "notified_at": c.notified_at and c.notified_at.isoformat(),
            "completed_at": c.completed_at and c.completed_at.isoformat(),
        }
        for c in DueCheckIn.objects.filter(person=person).order_by("due_at")
    ]


def _erase(person: Person, now: datetime) -> int:
    deleted, _ = FollowUp.objects.filter(person=person).delete()
    more, _ = DueCheckIn.objects.filter(person=person).delete()
    return deleted + more


PERSONAL_DATA = [
    PersonalData(
        name="checkins.follow_ups", description="Your follow-ups and booked check-ins.", export=_export, erase=_erase
    )
]
