"""The one way to write the audit log: ``record("<app>.<thing>.<verb>", actor=…, subject=…)``."""

import json
import logging
import re
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from django.utils import timezone

from backend.audit.models import AuditEntry, Withholding

_ACTION = re.compile(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$")
stream = logging.getLogger("keel.audit")


class HasPublicId(Protocol):
    public_id: UUID


def record(
    action: str,
    *,
    actor: HasPublicId | None,
    subject: HasPublicId | None = None,
    object_ref: str = "",
    purpose: str = "",
    actor_role: str = "",
    request_id: str = "",
    outcome: str = "ok",
    now: datetime | None = None,
) -> AuditEntry:
    if not _ACTION.match(action):
        raise ValueError(f"Audit actions are <app>.<thing>.<verb>, not {action!r}.")
    entry = AuditEntry.objects.create(
        at=now or timezone.now(),
        actor_id=actor.public_id if actor is not None else None,
        actor_role=actor_role,
        subject_id=subject.public_id if subject is not None else None,
        action=action,
        object_ref=object_ref,
        purpose=purpose,
        request_id=request_id,
        outcome=outcome,
    )
    fields: dict[str, Any] = {
        "id": str(entry.public_id),
        "at": entry.at.isoformat(),
        "actor": str(entry.actor_id) if entry.actor_id else None,
        "subject": str(entry.subject_id) if entry.subject_id else None,
        "action": action,
        "object": object_ref,
        "outcome": outcome,
        "request_id": request_id,
    }
    stream.info(json.dumps(fields, sort_keys=True))
    return entry


def withhold(*, entry: AuditEntry, ground: str, decided_by: HasPublicId, now: datetime) -> Withholding:
    """The DPO withholds an entry from the person's access log; the person sees that one was withheld."""
    if not ground.strip():
        raise ValueError("Record the legal ground for withholding the entry.")
    withholding, _ = Withholding.objects.get_or_create(
        entry_id=entry.public_id,
        defaults={"ground": ground.strip()[:300], "decided_by_id": decided_by.public_id, "decided_at": now},
    )
    record(
        "audit.entry.withheld",
        actor=decided_by,
        subject=None,
        object_ref=str(entry.public_id),
        purpose=ground[:200],
        now=now,
    )
    return withholding
