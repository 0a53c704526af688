import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import NoReturn

from django.db import transaction
from django.http import Http404

from backend.audit import services as audit
from backend.organisation.models import ApiToken, Person, TokenScope

TOKEN_PREFIX = "keel"  # noqa: S105 - a public marker, not a secret
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365


class TokenError(ValueError):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *,
    person: Person,
    name: str,
    scopes: list[str],
    now: datetime,
    days: int = DEFAULT_TOKEN_DAYS,
    actor: Person | None = None,
) -> tuple[ApiToken, str]:
    """Mints a token and returns it with its key, which is shown once and never stored."""
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if unknown:
        raise TokenError(f"Unknown scope {', '.join(unknown)}; choose from {', '.join(TokenScope.values)}.")
    if not scopes:
        raise TokenError("A token needs at least one scope.")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenError(f"A token lasts between 1 and {MAX_TOKEN_DAYS} days.")
    if not person.is_active:
        raise TokenError("This account is not active.")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        person=person,
        name=name.strip()[:100] or "token",
        prefix=prefix,
        key_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit.record(
        "organisation.token.created",
        actor=actor or person,
        subject=person,
        object_ref=str(token.public_id),
        now=now,
    )
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def token_authenticate(*, key: str, now: datetime) -> ApiToken | None:
    """The live token for a presented key, or None. Constant-time comparison of the hash."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("person").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(parts[2])):
        return None
    if token.revoked_at is not None or token.expires_at <= now or not token.person.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Person, now: datetime) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit.record(
            "organisation.token.revoked",
            actor=actor,
            subject=token.person,
            object_ref=str(token.public_id),
            now=now,
        )
    return token


def refuse_foreign_token(*, actor: Person, token_id: str, request_id: str = "") -> NoReturn:
    """Someone reached for a token that is not theirs: audit it against the owner, answer as if absent."""
    owner = Person.objects.filter(api_tokens__public_id=token_id).first()
    if owner is not None:
        audit.record(
            "organisation.token.refused",
            actor=actor,
            subject=owner,
            object_ref=str(token_id),
            outcome="refused",
            request_id=request_id,
        )
    raise Http404
