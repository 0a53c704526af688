"""Pages. Thin: read through selectors, write through services, render a template."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.common.problems import is_api_path, problem_response
from backend.organisation.models import Person, Role, TokenScope
from backend.organisation.selectors import (
    current_memberships,
    exposed_tenure,
    role_names_of,
    roles_of,
    team_headcount,
    teams_managed_by,
    tokens_of,
    units_scoped_for,
)
from backend.organisation.services import TokenError, token_create, token_revoke

DEMO_LOGINS = [
    ("demo-investigator", "Investigator (shares with welfare)"),
    ("demo-private", "Investigator (keeps a private record)"),
    ("demo-welfare", "Welfare officer"),
    ("demo-clinician", "Clinician"),
    ("demo-lead", "Welfare lead"),
    ("demo-manager", "Manager"),
    ("demo-dpo", "Data protection officer"),
    ("demo-admin", "Administrator"),
]


class KeelLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = DEMO_LOGINS
        return context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    names = role_names_of(person)
    context: dict[str, Any] = {
        "roles": roles_of(person),
        "memberships": current_memberships(person, on=today),
        "tenure_days": exposed_tenure(person, on=today).days,
        "is_investigator": Role.INVESTIGATOR in names,
        "is_welfare_officer": Role.WELFARE_OFFICER in names,
        "is_clinician": Role.CLINICIAN in names,
        "is_lead": Role.WELFARE_LEAD in names,
        "is_manager": Role.MANAGER in names,
        "is_dpo": Role.DPO in names,
        "is_admin": Role.ADMINISTRATOR in names,
        "units_covered": units_scoped_for(person, Role.WELFARE_OFFICER),
        "units_served": units_scoped_for(person, Role.CLINICIAN),
        "teams_managed": [
            (team, team_headcount(team, on=today)) for team in teams_managed_by(person).select_related("unit")
        ],
    }
    return render(request, "frontend/home.html", context)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    new_key = None
    if request.method == "POST":
        try:
            _, new_key = token_create(
                person=person,
                name=request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
                days=int(request.POST.get("days") or 90),
                now=timezone.now(),
            )
        except (TokenError, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, TokenError) else "Days must be a whole number.")
    context = {
        "tokens": tokens_of(person),
        "scopes": TokenScope.choices,
        "new_key": new_key,
        "now": timezone.now(),
    }
    return render(request, "frontend/account.html", context, status=200)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: str) -> HttpResponse:
    token = get_object_or_404(tokens_of(request.user), public_id=token_id)  # type: ignore[arg-type]
    token_revoke(token=token, actor=request.user, now=timezone.now())  # type: ignore[arg-type]
    messages.success(request, f"Token {token.prefix}… revoked.")
    return redirect("account")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin); answer rather than 404."""
    return redirect(static("keel/favicon.svg"), permanent=True)


def support(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/support.html")


def _error(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    if is_api_path(request):
        return problem_response(status, detail)
    return render(request, "frontend/error.html", {"title": title, "detail": detail}, status=status)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "That request could not be understood", "Please go back and try again.")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "Not allowed", "You do not have access to this page.")


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "Page not found", "There is nothing at this address.")


def error_500(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "Something went wrong on our side", "The error has been logged. Nothing was changed.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, 403, "Please try again", "The form had expired. Reload the page and send it again.")
