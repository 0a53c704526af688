from datetime import datetime
from typing import Any

from backend.alerts.models import AlertState
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
    deleted, _ = alerts_about(person).filter(state=AlertState.CLOSED).delete()
    return deleted


PERSONAL_DATA = [
    PersonalData(
        name="alerts.alerts",
        description="Alerts raised about you, their state and outcome.",
        export=_export,
        erase=_erase,
    ),
]
