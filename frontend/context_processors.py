from typing import Any

from django.conf import settings
from django.http import HttpRequest

from backend.alerts.selectors import unread_count
from backend.organisation.models import Role
from backend.organisation.selectors import organisation_get, role_names_of


def keel(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    roles = role_names_of(user) if signed_in else set()  # type: ignore[arg-type]
    return {
        "organisation": organisation_get(),
        "keel_demo": settings.KEEL_DEMO,
        "nav_log": Role.INVESTIGATOR in roles,
        "nav_people": bool(roles & {Role.WELFARE_OFFICER, Role.WELFARE_LEAD}),
        "nav_alerts": bool(roles & {Role.WELFARE_OFFICER, Role.WELFARE_LEAD, Role.CLINICIAN}),
        "unread_notifications": unread_count(user) if signed_in else 0,  # type: ignore[arg-type]
        "nav_audit": bool(roles & {Role.DPO, Role.WELFARE_LEAD, Role.ADMINISTRATOR}),
    }
