from typing import Any

from backend.common.privacy_spec import PersonalData
from backend.organisation.models import Person
from backend.organisation.selectors import roles_of, tokens_of


def _profile(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "id": str(person.public_id),
            "username": person.username,
            "name": person.name,
            "email": person.email,
            "staff_type": person.staff_type,
            "employing_organisation": person.employing_organisation,
            "joined": person.date_joined.isoformat(),
            "memberships": [
                {
                    "team": str(m.team),
                    "started_on": m.started_on.isoformat(),
                    "ended_on": m.ended_on and m.ended_on.isoformat(),
                }
                for m in person.memberships.select_related("team__unit").order_by("started_on")
            ],
            "roles": [{"role": r.role, "scope": r.scope_name} for r in roles_of(person)],
        }
    ]


def _tokens(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "prefix": t.prefix,
            "scopes": t.scopes,
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat(),
            "revoked_at": t.revoked_at and t.revoked_at.isoformat(),
        }
        for t in tokens_of(person)
    ]


PERSONAL_DATA = [
    PersonalData(
        name="organisation.profile",
        description="Your account, your teams with their dates, and your roles.",
        export=_profile,
        kept_because="Needed to sign in, to route support to the right welfare officer and to count tenure.",
    ),
    PersonalData(
        name="organisation.tokens",
        description="Your API tokens (names, scopes and dates; never the keys).",
        export=_tokens,
        kept_because="Needed to refuse a revoked token; they hold no exposure or health data.",
    ),
]
