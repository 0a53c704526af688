from typing import Any

from backend.common.privacy_spec import PersonalData
from backend.organisation.models import Person
from backend.privacy.audit_log import access_log_for


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {"withheld": True}
        if e.withheld
        else {"at": e.at and e.at.isoformat(), "who": e.who, "role": e.role, "what": e.what, "why": e.why}
        for e in access_log_for(person)
    ]


PERSONAL_DATA = [
    PersonalData(
        name="audit.access_log",
        description="Who opened or exported your data, when, and why.",
        export=_export,
        kept_because="The audit log cannot be changed or deleted by the application; it is kept for six years.",
    ),
]
