import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

from backend.common.problems import problem_response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane one from the proxy) for logs and audit rows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class NoStoreForAuthenticatedMiddleware:
    """Nothing shown to a signed-in person (or a token client) may be kept by a browser or proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        token_client = "Authorization" in request.headers
        if (user is not None and user.is_authenticated) or token_client or request.path.startswith("/api/v1/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, max-age=0, private"
        return response


class ErrorBodyMiddleware:
    """Gives a body to bare error responses (e.g. a 405 from ``require_GET``): problem JSON or a page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or getattr(response, "streaming", False) or response.content:
            return response
        reason = response.reason_phrase
        if request.path.startswith("/api/") or request.path in ("/healthz", "/status"):
            replacement: HttpResponse = problem_response(response.status_code, reason)
        else:
            html = render_to_string("frontend/error.html", {"title": reason, "detail": reason}, request=request)
            replacement = HttpResponse(html, status=response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                replacement[header] = response[header]
        return replacement


def request_id_of(request: HttpRequest) -> str:
    return getattr(request, "request_id", "")
