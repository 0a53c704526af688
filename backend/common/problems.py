"""Errors as problem JSON (RFC 9457) for every 4xx and 5xx the API returns."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from backend.common.errors import NotPermitted

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "The request is not valid",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Service unavailable",
}


def problem(
    status_code: int,
    detail: str,
    *,
    code: str | None = None,
    errors: dict[str, list[str]] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:keel:problem:{code}" if code else "about:blank",
        "title": title or _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(status_code: int, detail: str, **kwargs: Any) -> JsonResponse:
    return JsonResponse(problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turns DRF's nested error structure into {"field.sub": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, int) or str(key).isdigit():
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in data)
        else:
            for index, item in enumerate(data):
                for k, v in _flatten(item, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(data))
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, NotPermitted):
        exc = exceptions.PermissionDenied(str(exc) or None, code=exc.code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request was refused as malformed.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in API view", exc_info=exc)
        response = Response(status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        body = problem(500, "The error has been logged. Nothing was changed.")
    elif isinstance(exc, exceptions.ValidationError):
        body = problem(400, "Some fields need attention.", code="validation", errors=_flatten(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", None) if isinstance(exc, exceptions.APIException) else None
        text = detail if isinstance(detail, str) else "; ".join(f"{k}" for k in _flatten(detail))
        body = problem(response.status_code, str(text), code=code)
        extra = getattr(exc, "problem_extra", None)
        if extra:
            body.update(extra)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is larger than this endpoint accepts."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "This conflicts with the current state."
    default_code = "conflict"


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")
