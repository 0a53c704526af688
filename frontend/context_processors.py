from typing import Any

from django.conf import settings
from django.http import HttpRequest

from backend.organisation.models import Role
from backend.organisation.selectors import organisation_get, role_names_of


def keel(request: HttpRequest) -> dict[str, Any]:
    roles = role_names_of(request.user) if request.user.is_authenticated else set()
    return {
        "organisation": organisation_get(),
        "keel_demo": settings.KEEL_DEMO,
        "nav_log": Role.INVESTIGATOR in roles,
        "nav_people": bool(roles & {Role.WELFARE_OFFICER, Role.WELFARE_LEAD}),
        "nav_audit": bool(roles & {Role.DPO, Role.WELFARE_LEAD, Role.ADMINISTRATOR}),
    }
