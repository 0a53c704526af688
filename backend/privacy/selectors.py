"""Reads of a whole person's data, across apps, for a named viewer."""

from datetime import datetime
from typing import Any

from backend.audit import services as audit
from backend.common.errors import NotPermitted
from backend.consent.selectors import choices_of, welfare_may_open
from backend.organisation.models import Person, Role
from backend.organisation.selectors import current_memberships, exposed_tenure, has_role
from backend.privacy.registry import registered

PURPOSES = ("alert", "check-in", "referral", "support request", "review")


def subject_export(person: Person) -> dict[str, Any]:
    """Everything every app holds about the person, by registry entry (subject access)."""
    return {spec.name: {"description": spec.description, "rows": spec.export(person)} for spec in registered()}


def _record(subject: Person, *, now: datetime) -> dict[str, Any]:
    today = now.date()
    choices = choices_of(subject)
    return {
        "id": subject.public_id,
        "name": subject.name,
        "teams": [str(m.team) for m in current_memberships(subject, on=today)],
        "exposed_tenure_days": exposed_tenure(subject, on=today).days,
        "choices": {"record": choices.record, "welfare": choices.welfare, "rota-signal": choices.rota_signal},
    }


def person_record_for(
    viewer: Person, subject: Person, *, purpose: str, now: datetime, request_id: str = ""
) -> dict[str, Any]:
    """The subject's record as this viewer may see it. Every opening by someone else is audited, and so
    is every refusal; managers and administrators never get here (they are never welfare staff for it)."""
    if viewer.pk == subject.pk:
        return _record(subject, now=now)
    if purpose not in PURPOSES:
        raise ValueError(f"Say why you are opening the record: one of {', '.join(PURPOSES)}.")
    role = Role.WELFARE_LEAD if has_role(viewer, Role.WELFARE_LEAD) else Role.WELFARE_OFFICER
    if not welfare_may_open(viewer, subject, on=now.date()):
        audit.record(
            "privacy.record.refused",
            actor=viewer,
            subject=subject,
            purpose=purpose,
            actor_role=role,
            request_id=request_id,
            outcome="refused",
            now=now,
        )
        raise NotPermitted("You cannot open this person's record.")
    audit.record(
        "privacy.record.opened",
        actor=viewer,
        subject=subject,
        purpose=purpose,
        actor_role=role,
        request_id=request_id,
        now=now,
    )
    return _record(subject, now=now)
