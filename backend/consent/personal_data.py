from typing import Any

from backend.common.privacy_spec import PersonalData
from backend.consent.selectors import exclusions_of, history_of
from backend.organisation.models import Person


def _history(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "choice": c.choice,
            "given": c.given,
            "at": c.at.isoformat(),
            "notice_version": c.notice_version,
            "notice_hash": c.notice_hash,
            "channel": c.channel,
        }
        for c in history_of(person)
    ]


def _exclusions(person: Person) -> list[dict[str, Any]]:
    return [{"officer": e.officer.name, "since": e.created_at.isoformat()} for e in exclusions_of(person)]


PERSONAL_DATA = [
    PersonalData(
        name="consent.history",
        description="Every choice you gave or withdrew, when, and against which notice.",
        export=_history,
        kept_because="It is the evidence of what you agreed to, and when.",
    ),
    PersonalData(
        name="consent.exclusions",
        description="Welfare officers you excluded.",
        export=_exclusions,
        kept_because="It keeps your alerts away from people you chose to exclude.",
    ),
]
