from typing import Any

from django.conf import settings
from django.http import HttpRequest

from backend.organisation.selectors import organisation_get


def keel(request: HttpRequest) -> dict[str, Any]:
    return {"organisation": organisation_get(), "keel_demo": settings.KEEL_DEMO}
