"""The one way to write the audit log: ``record("<app>.<thing>.<verb>", actor=…, subject=…)``."""

import json
import logging
import re
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from django.utils import timezone

from backend.audit.models import AuditEntry

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
