"""Pages. Thin: read through selectors, write through services, render a template."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.common.errors import NotPermitted
from backend.common.ids import parse_uuid
from backend.common.middleware import request_id_of
from backend.common.problems import is_api_path, problem_response
from backend.consent.models import Channel, Choice
from backend.consent.selectors import (
    choices_of,
    excludable_officers,
    exclusions_of,
    history_of,
    notice_current,
    people_supported_by,
)
from backend.consent.services import ChoiceError, choice_set, exclusion_add, exclusion_remove
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
from backend.organisation.services import TokenError, refuse_foreign_token, token_create, token_revoke
from backend.privacy.audit_log import access_log_for, audit_entries_for, audit_view_kind, entry_rows
from backend.privacy.selectors import PURPOSES, person_record_for
from backend.privacy.services import ErasureRefused, record_erase

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
        "choices": choices_of(person),
        "supported_count": people_supported_by(person, on=today).count() if Role.WELFARE_OFFICER in names else 0,
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
    token = tokens_of(request.user).filter(public_id=token_id).first()  # type: ignore[arg-type]
    if token is None:
        refuse_foreign_token(actor=request.user, token_id=token_id, request_id=request_id_of(request))  # type: ignore[arg-type]
    token_revoke(token=token, actor=request.user, now=timezone.now())  # type: ignore[arg-type]
    messages.success(request, f"Token {token.prefix}… revoked.")
    return redirect("account")


CHOICE_TEXT = {
    Choice.RECORD: "Keep my individual record. Without it nothing about me is kept; support stays open to me.",
    Choice.WELFARE: "Share with the welfare officers covering my unit. They are told when a threshold is crossed "
    "and may open my record; every opening is shown to me.",
    Choice.ROTA_SIGNAL: "When my manager plans rotas, flag a block that would break my limits as "
    '"conflicts with welfare limits" — never the numbers, never which limit.',
}


@login_required
def choices(request: HttpRequest) -> HttpResponse:
    """The person's sharing choices: each given or withdrawn with one button, the same number of steps."""
    person: Person = request.user  # type: ignore[assignment]
    now = timezone.now()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("give", "withdraw"):
                version = request.POST.get("notice_version")
                outcome = choice_set(
                    person=person,
                    choice=request.POST.get("choice", ""),
                    given=action == "give",
                    notice_version=int(version) if version and version.isdigit() else None,
                    channel=Channel.WEB,
                    now=now,
                    request_id=request_id_of(request),
                )
                names = ", ".join(c.choice for c in outcome.changes)
                messages.success(request, f"{'Given' if action == 'give' else 'Withdrawn'}: {names}.")
            elif action == "exclude":
                officer_id = parse_uuid(request.POST.get("officer"))
                officer = Person.objects.filter(public_id=officer_id).first() if officer_id else None
                if officer is None:
                    raise ChoiceError("Choose a welfare officer to exclude.")
                exclusion_add(person=person, officer=officer, now=now, request_id=request_id_of(request))
                messages.success(request, f"{officer.name} will not handle your alerts or open your record.")
            elif action == "include":
                exclusion = get_object_or_404(
                    exclusions_of(person), public_id=parse_uuid(request.POST.get("exclusion"))
                )
                exclusion_remove(exclusion=exclusion, now=now, request_id=request_id_of(request))
                messages.success(request, "Exclusion removed.")
            elif action == "erase":
                counts = record_erase(person=person, now=now, request_id=request_id_of(request))
                messages.success(request, f"Your individual record was erased ({sum(counts.values())} rows).")
        except (ChoiceError, ErasureRefused) as exc:
            messages.error(request, str(exc))
        return redirect("choices")
    current = choices_of(person)
    context = {
        "notice": notice_current(),
        "rows": [(c, CHOICE_TEXT[Choice(c)], current.has(c)) for c in Choice.values],
        "record_given": current.record,
        "history": history_of(person)[:100],
        "exclusions": exclusions_of(person),
        "excludable": excludable_officers(person, on=now.date()).exclude(excluded_by__person=person),
    }
    return render(request, "frontend/choices.html", context)


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/access_log.html", {"entries": access_log_for(request.user)[:500]})  # type: ignore[arg-type]


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """People I support: only those who chose `welfare` in units I cover and have not excluded me."""
    supported = people_supported_by(request.user, on=timezone.localdate())  # type: ignore[arg-type]
    return render(request, "frontend/people.html", {"people": supported, "purposes": PURPOSES})


@login_required
def person_record(request: HttpRequest, person_id: str) -> HttpResponse:
    subject = get_object_or_404(Person, public_id=person_id)
    try:
        record = person_record_for(
            request.user,  # type: ignore[arg-type]
            subject,
            purpose=request.GET.get("purpose", "review"),
            now=timezone.now(),
            request_id=request_id_of(request),
        )
    except (NotPermitted, ValueError):
        return error_404(request)
    return render(request, "frontend/person_record.html", {"record": record})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    viewer: Person = request.user  # type: ignore[assignment]
    filters = {k: request.GET[k] for k in ("actor", "subject") if request.GET.get(k)}
    try:
        entries = audit_entries_for(viewer, **filters)[:200]  # type: ignore[arg-type]
        rows = entry_rows(viewer, list(entries))
    except NotPermitted:
        return error_403(request)
    except (ValueError, ValidationError):
        messages.error(request, "Actor and subject are public ids (UUIDs).")
        return redirect("audit")
    full = audit_view_kind(viewer) == "full"
    return render(request, "frontend/audit.html", {"rows": rows, "filters": filters, "full": full})


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
