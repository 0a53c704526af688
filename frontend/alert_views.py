"""The welfare officer's work queue and everyone's notifications."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.alerts import engine
from backend.alerts.models import AlertState, Outcome
from backend.alerts.selectors import alerts_visible_to, notifications_of
from backend.alerts.services import (
    alert_acknowledge,
    alert_assign,
    alert_close,
    alert_record_action,
    may_handle,
    notification_read,
)
from backend.common.errors import NotPermitted
from backend.common.ids import parse_uuid
from backend.organisation.models import Person, Role, RoleAssignment


@login_required
def work_queue(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    now = timezone.now()
    alerts = list(alerts_visible_to(person)[:200])
    officers = Person.objects.filter(
        pk__in=RoleAssignment.objects.filter(role__in=[Role.WELFARE_OFFICER, Role.WELFARE_LEAD]).values("person")
    ).order_by("display_name")
    rows = []
    for alert in alerts:
        rule_title = (
            engine.rule(alert.rule).title if alert.rule in {r.code for r in engine.registered()} else alert.rule
        )
        left = (alert.ack_due_at - now).total_seconds() if alert.ack_due_at and not alert.acknowledged_at else None
        rows.append(
            {
                "alert": alert,
                "title": rule_title,
                "minutes_left": int(left // 60) if left is not None else None,
                "handlers": [o for o in officers if o.pk != alert.assignee_id and may_handle(o, alert)],
                "mine": alert.assignee_id == person.pk,
            }
        )
    context = {
        "rows": rows,
        "outcomes": Outcome.choices,
        "open_states": [AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.ACTION_TAKEN],
    }
    return render(request, "frontend/alerts.html", context)


@login_required
@require_POST
def alert_act(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    alert = get_object_or_404(alerts_visible_to(person), public_id=alert_id)
    action, now = request.POST.get("action", ""), timezone.now()
    try:
        if action == "acknowledge":
            alert_acknowledge(alert=alert, actor=person, now=now)
        elif action == "assign":
            to_id = parse_uuid(request.POST.get("to"))
            to = Person.objects.filter(public_id=to_id).first() if to_id else None
            if to is None:
                raise ValueError("Choose who should handle it.")
            alert_assign(alert=alert, actor=person, to=to, now=now)
        elif action == "action":
            alert_record_action(alert=alert, actor=person, outcome=request.POST.get("outcome", ""), now=now)
        elif action == "close":
            alert_close(alert=alert, actor=person, outcome=request.POST.get("outcome", ""), now=now)
        else:
            raise ValueError("Unknown action.")
        messages.success(request, "Done.")
    except (ValueError, NotPermitted) as exc:
        messages.error(request, str(exc))
    return redirect("alerts")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    if request.method == "POST":
        notification = get_object_or_404(
            notifications_of(person), public_id=parse_uuid(request.POST.get("notification"))
        )
        notification_read(notification=notification, now=timezone.now())
        return redirect(notification.link or "notifications")
    return render(request, "frontend/notifications.html", {"notifications": notifications_of(person)[:100]})
