"""Reads of the audit log, scoped by viewer: the person's own access log, the DPO's and lead's full
view, the administrator's neutral view. They live above the apps because they join people to entries."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from backend.audit.models import AuditEntry, Withholding
from backend.common.errors import NotPermitted
from backend.organisation.models import Person, Role
from backend.organisation.selectors import role_names_of

FULL_VIEW_ROLES = {Role.DPO, Role.WELFARE_LEAD}
NEUTRAL = [
    (("consent.",), "choice change"),
    (("organisation.token.",), "token change"),
    (("organisation.role.",), "role change"),
    ((".opened", ".viewed", ".exported", ".refused"), "access to personal data"),
]


def neutral_action(action: str) -> str:
    for markers, label in NEUTRAL:
        if any(action.startswith(m) or action.endswith(m) for m in markers):
            return label
    return "other activity"


def _names(ids: set[UUID]) -> dict[UUID, str]:
    return {p.public_id: p.name for p in Person.objects.filter(public_id__in=ids)}


@dataclass(frozen=True)
class AccessLogEntry:
    withheld: bool
    at: datetime | None
    who: str | None
    role: str | None
    what: str | None
    why: str | None


def access_log_for(person: Person) -> list[AccessLogEntry]:
    """Every entry where the person is the subject and someone else acted; withheld ones say so."""
    entries = list(
        AuditEntry.objects.filter(subject_id=person.public_id)
        .exclude(Q(actor_id=person.public_id) | Q(actor_id__isnull=True))
        .order_by("-at", "-id")
    )
    withheld = set(
        Withholding.objects.filter(entry_id__in=[e.public_id for e in entries]).values_list("entry_id", flat=True)
    )
    names = _names({e.actor_id for e in entries if e.actor_id})
    return [
        AccessLogEntry(True, None, None, None, None, None)
        if e.public_id in withheld
        else AccessLogEntry(
            False,
            e.at,
            names.get(e.actor_id, "a former member of staff") if e.actor_id else None,
            e.actor_role or None,
            e.action,
            e.purpose or None,
        )
        for e in entries
    ]


def audit_view_kind(viewer: Person) -> str:
    roles = role_names_of(viewer)
    if roles & {r.value for r in FULL_VIEW_ROLES}:
        return "full"
    if Role.ADMINISTRATOR in roles:
        return "neutral"
    raise NotPermitted("The audit log is for the data protection officer, the welfare lead and administrators.")


def audit_entries_for(
    viewer: Person, *, actor: UUID | None = None, subject: UUID | None = None
) -> QuerySet[AuditEntry]:
    kind = audit_view_kind(viewer)
    entries = AuditEntry.objects.order_by("-at", "-id")
    if kind == "neutral" and subject is not None:
        raise NotPermitted("Administrators see the log without whose data it concerns.")
    if actor is not None:
        entries = entries.filter(actor_id=actor)
    if subject is not None:
        entries = entries.filter(subject_id=subject)
    return entries


def entry_rows(viewer: Person, entries: list[AuditEntry]) -> list[dict[str, Any]]:
    if audit_view_kind(viewer) == "neutral":
        return [
            {"at": e.at, "actor_role": e.actor_role, "action": neutral_action(e.action), "outcome": e.outcome}
            for e in entries
        ]
    names = _names({i for e in entries for i in (e.actor_id, e.subject_id) if i})
    return [
        {
            "id": e.public_id,
            "at": e.at,
            "actor": e.actor_id,
            "actor_name": names.get(e.actor_id) if e.actor_id else None,
            "actor_role": e.actor_role,
            "subject": e.subject_id,
            "subject_name": names.get(e.subject_id) if e.subject_id else None,
            "action": e.action,
            "object": e.object_ref,
            "purpose": e.purpose,
            "outcome": e.outcome,
            "request_id": e.request_id,
        }
        for e in entries
    ]
