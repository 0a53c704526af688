"""Everything that leaves Keel goes through the outbox: rows written with their cause, then leased, sent
and marked sent by a relay. A crash means a resend with the same Message-ID or event id, never a loss."""

import hashlib
import hmac
import json
import logging
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q

from backend.alerts.models import OutboxMessage, OutboxState
from backend.organisation.models import Person

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=60)


def message_id(message: OutboxMessage) -> str:
    return f"<{message.public_id}@{settings.KEEL_MESSAGE_ID_DOMAIN}>"


def outbox_enqueue(*, kind: str, dedup_key: str, payload: dict[str, Any], now: datetime) -> OutboxMessage:
    message, _ = OutboxMessage.objects.get_or_create(
        dedup_key=dedup_key, defaults={"kind": kind, "payload": payload, "created_at": now, "next_attempt_at": now}
    )
    return message


def outbox_claim(*, now: datetime, limit: int = 50) -> list[int]:
    """Leases up to ``limit`` due messages. SKIP LOCKED on PostgreSQL lets relays run side by side."""
    due = Q(state=OutboxState.PENDING, next_attempt_at__lte=now) & (
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    )
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(due).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:limit])
        OutboxMessage.objects.filter(pk__in=ids).update(leased_until=now + LEASE)
    return ids


def _send_email(message: OutboxMessage) -> None:
    person = Person.objects.filter(public_id=message.payload["to"]).first()
    if person is None or not person.email:
        raise LookupError("no address")
    email = EmailMessage(
        subject=message.payload["subject"],
        body=message.payload["body"],
        to=[person.email],
        headers={"Message-ID": message_id(message)},
    )
    email.send(fail_silently=False)


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_webhook(message: OutboxMessage) -> None:
    url = settings.KEEL_PAGING_WEBHOOK_URL
    if not url:
        raise LookupError("no paging webhook configured")
    if not url.startswith(("https://", "http://")):
        raise LookupError("the paging webhook must be an http(s) URL")
    body = json.dumps({"event_id": str(message.public_id), **message.payload}, sort_keys=True).encode()
    request = urllib.request.Request(  # noqa: S310 - the operator configures an http(s) URL
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Keel-Event-Id": str(message.public_id),
            "X-Keel-Signature": signature(body, settings.KEEL_PAGING_WEBHOOK_SECRET),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


SENDERS = {"email": _send_email, "webhook": _send_webhook}


def outbox_deliver(*, pk: int, now: datetime, on_dead: Callable[[OutboxMessage, datetime], object]) -> str:
    """Sends one leased message; marks it sent, or schedules a retry with backoff, or dead-letters it."""
    message = OutboxMessage.objects.get(pk=pk)
    if message.state != OutboxState.PENDING:
        return message.state
    try:
        SENDERS[message.kind](message)
    except LookupError as exc:  # nothing to send to: in-app notification stands alone
        OutboxMessage.objects.filter(pk=pk).update(state=OutboxState.SENT, sent_at=now, last_error=str(exc)[:200])
        return OutboxState.SENT
    except Exception as exc:  # a failed send is retried, never lost
        attempts = message.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            with transaction.atomic():
                OutboxMessage.objects.filter(pk=pk).update(
                    state=OutboxState.DEAD, attempts=attempts, last_error=str(exc)[:200]
                )
                on_dead(message, now)
            return OutboxState.DEAD
        OutboxMessage.objects.filter(pk=pk).update(
            attempts=attempts,
            leased_until=None,
            last_error=str(exc)[:200],
            next_attempt_at=now + timedelta(seconds=30 * 2**attempts),
        )
        return OutboxState.PENDING
    OutboxMessage.objects.filter(pk=pk, state=OutboxState.PENDING).update(state=OutboxState.SENT, sent_at=now)
    return OutboxState.SENT
