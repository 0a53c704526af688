from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from backend.common.problems import is_api_path, problem_response

LOGIN_AT = "keel_login_at"
SEEN_AT = "keel_seen_at"
BACKGROUND_HEADER = "X-Keel-Background"


class SessionLimitsMiddleware:
    """Ends a session after 15 idle minutes or 10 hours in all, and at once for a disabled account.

    Requests marked as background polling (``X-Keel-Background: 1``) do not count as activity.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated and SESSION_KEY in request.session:
            # The account was disabled or deleted: end the session for good, not just for this request.
            request.session.flush()
        if user.is_authenticated:
            now = timezone.now()
            login_at = request.session.get(LOGIN_AT)
            seen_at = request.session.get(SEEN_AT) or login_at
            expired = (
                login_at is None
                or seen_at is None
                or not user.is_active
                or now - datetime.fromisoformat(login_at) > settings.SESSION_ABSOLUTE_TIMEOUT
                or now - datetime.fromisoformat(seen_at) > settings.SESSION_IDLE_TIMEOUT
            )
            if expired:
                logout(request)
                if is_api_path(request):
                    return problem_response(401, "Your session has ended. Sign in again.", code="session_expired")
                messages.info(request, "Your session ended, so you were signed out. Sign in again to carry on.")
                return redirect_to_login(request.get_full_path())
            if request.headers.get(BACKGROUND_HEADER) != "1":
                request.session[SEEN_AT] = now.isoformat()
        return self.get_response(request)


def start_session_clock(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """Receives ``user_logged_in`` (Django has just cycled the session id)."""
    now = timezone.now().isoformat()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
