from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from backend.organisation.models import ApiToken, Person
from backend.organisation.services import token_authenticate


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>`` for machine clients; a bad, expired or revoked key is a 401."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        token = token_authenticate(key=key.strip(), now=timezone.now())
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, has expired or was revoked.")
        return token.person, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class SessionAuthentication(authentication.SessionAuthentication):
    """Session auth that answers 401 (not 403) when nobody is signed in."""

    def authenticate_header(self, request: Request) -> str:
        return 'Session realm="keel"'


class TokenScopePermission(permissions.BasePermission):
    """A token may only reach views that name one of its scopes in ``token_scopes``; sessions pass."""

    message = "This token's scopes do not allow this request."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        allowed = getattr(view, "token_scopes", {})
        needed = allowed.get(request.method or "", None) if isinstance(allowed, dict) else None
        return needed is not None and needed in request.auth.scopes


def person_of(request: Request) -> Person:
    """The signed-in person behind a request that permission classes have already let through."""
    user = request.user
    if not isinstance(user, Person):
        raise exceptions.NotAuthenticated()
    return user
