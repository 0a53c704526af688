"""Unit policies for the welfare lead (and administrators): read everywhere, changed as new versions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from backend.alerts.selectors import on_call_gaps
from backend.common.errors import NotPermitted
from backend.organisation.models import Person, Role, Unit
from backend.organisation.selectors import role_names_of
from backend.policies.models import REVIEW_NOTE, LimitBasis
from backend.policies.selectors import policy_for_unit
from backend.policies.services import EDITABLE, PolicyRejected, policy_set

NUMBERS = [name for name in EDITABLE if not name.startswith("follow_up_on_") and name != "limit_basis"]
SWITCHES = [name for name in EDITABLE if name.startswith("follow_up_on_")]


@login_required
def policies(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    if request.method == "POST":
        unit = get_object_or_404(Unit, public_id=request.POST.get("unit"))
        changes: dict[str, object] = {name: request.POST.get(name) == "on" for name in SWITCHES}
        try:
            for name in NUMBERS:
                changes[name] = int(request.POST.get(name, ""))
        except ValueError:
            messages.error(request, "Every limit is a whole number.")
            return redirect("policies")
        changes["limit_basis"] = request.POST.get("limit_basis", LimitBasis.MINUTES)
        current = policy_for_unit(unit)
        changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
        try:
            policy_set(unit=unit, changes=changes, actor=person, now=timezone.now())
            messages.success(request, f"{unit.name}: policy saved as a new version.")
        except PolicyRejected as exc:
            messages.error(request, "; ".join(" ".join(v) for v in exc.errors.values()))
        except NotPermitted as exc:
            messages.error(request, str(exc))
        return redirect("policies")
    can_edit = bool(role_names_of(person) & {Role.WELFARE_LEAD, Role.ADMINISTRATOR})
    context = {
        "rows": [(unit, policy_for_unit(unit)) for unit in Unit.objects.order_by("name")],
        "numbers": NUMBERS,
        "switches": SWITCHES,
        "bases": LimitBasis.choices,
        "can_edit": can_edit,
        "review_note": REVIEW_NOTE,
        "gaps": on_call_gaps(now=timezone.now()) if Role.WELFARE_LEAD in role_names_of(person) else [],
    }
    return render(request, "frontend/policies.html", context)
