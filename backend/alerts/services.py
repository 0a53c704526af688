"""Raising, routing, handling and escalating alerts; in-app notifications; the outbox relay."""

import contextlib
import threading
from datetime import datetime
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce

from backend.alerts import engine
from backend.alerts.deadlines import CoveredHours
from backend.alerts.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertState,
    Notification,
    NotificationKind,
    OutboxMessage,
    Outcome,
)
from backend.alerts.outbox import outbox_claim, outbox_deliver, outbox_enqueue
from backend.alerts.routing import escalation_target, handler_for, units_of
from backend.audit import services as audit
from backend.common.errors import NotPermitted
from backend.consent.selectors import choices_of, exclusions_of
from backend.organisation.models import Membership, Person, Role, RoleAssignment
from backend.organisation.selectors import exposed_tenure, has_role, organisation_get
from backend.policies.selectors import policy_for_person

CRISIS_CONTACTS = "If you need help now: 999, NHS 111 option 2, Samaritans 116 123, or text SHOUT to 85258."
MAX_ROUNDS = 3


def notify(
    *,
    recipient: Person,
    kind: str,
    title: str,
    body: str,
    dedup_key: str,
    now: datetime,
    link: str = "",
    alert: Alert | None = None,
) -> Notification:
    notification, _ = Notification.objects.get_or_create(
        dedup_key=dedup_key,
        defaults={
            "recipient": recipient,
            "kind": kind,
            "title": title,
            "body": body,
            "link": link,
            "alert": alert,
            "created_at": now,
        },
    )
    return notification


def _send_kick() -> None:
    with contextlib.suppress(Exception):
        current_app.send_task("backend.alerts.tasks.relay_outbox", retry=False)


def _kick_relay() -> None:
    """After commit, ask a worker to relay now. In a thread, so a down or hung broker never holds the
    request; if the kick is lost, beat's relay every few seconds picks the rows up anyway."""
    threading.Thread(target=_send_kick, name="keel-outbox-kick", daemon=True).start()


def _tell_handler(alert: Alert, handler: Person, *, step: str, now: datetime) -> None:
    """In-app notification and an email with no health or exposure detail; a signed page for urgent alerts."""
    key = f"alert:{alert.public_id}:{step}:{handler.public_id}"
    title = f"{alert.get_severity_display()} alert: {engine.rule(alert.rule).title}"
    notify(
        recipient=handler,
        kind=NotificationKind.ALERT,
        title=title,
        body="Open your work queue to act on it.",
        link="/alerts/",
        dedup_key=key,
        alert=alert,
        now=now,
    )
    outbox_enqueue(
        kind="email",
        dedup_key=f"email:{key}",
        now=now,
        payload={
            "to": str(handler.public_id),
            "subject": "Keel: something needs your attention",
            "body": "Something in Keel needs your attention. Sign in and open your work queue: "
            f"{settings.KEEL_BASE_URL}/alerts/\n\nThis email holds no details by design.",
        },
    )
    if alert.severity == "urgent" and settings.KEEL_PAGING_WEBHOOK_URL:
        outbox_enqueue(
            kind="webhook",
            dedup_key=f"webhook:{key}",
            now=now,
            payload={
                "type": "alert.needs_attention",
                "severity": alert.severity,
                "step": step,
                "link": f"{settings.KEEL_BASE_URL}/alerts/",
            },
        )
    transaction.on_commit(_kick_relay)


@transaction.atomic
def rule_fire(*, code: str, person: Person, period_key: str, now: datetime) -> Alert | None:
    """What a crossed threshold produces: a private nudge or check-in for the person; with `welfare` (or when
    the person asked), an alert to a handler. Exactly once per rule, person and period."""
    rule = engine.rule(code)
    base = f"{code}:{person.public_id}:{period_key}"
    covered = CoveredHours(organisation_get())
    if rule.person_message:
        notify(
            recipient=person,
            kind=NotificationKind.NUDGE,
            title=rule.title,
            body=rule.person_message,
            dedup_key=f"{base}:person",
            now=now,
            link="/log/",
        )
    if rule.books_checkin:
        notify(
            recipient=person,
            kind=NotificationKind.CHECKIN,
            title="A check-in for you",
            body="How are you doing? Take a moment for a short check-in.",
            dedup_key=f"{base}:checkin",
            now=now,
            link="/checkins/",
        )
    if not rule.alerts_welfare or not (rule.names_person_always or choices_of(person).welfare):
        return None
    units = units_of(person, on=now)
    handler = handler_for(person, severity=rule.severity, now=now, units=units)
    alert, created = Alert.objects.get_or_create(
        dedup_key=base,
        defaults={
            "rule": code,
            "person": person,
            "severity": rule.severity,
            "assignee": handler,
            "unit": units[0] if units else None,
            "created_at": now,
            "ack_due_at": covered.ack_deadline(rule.severity, now),
            "raised_out_of_hours": not covered.is_covered(now),
        },
    )
    if created:
        AlertEvent.objects.create(alert=alert, at=now, kind=AlertEventKind.RAISED, to=handler)
        if handler is not None:
            _tell_handler(alert, handler, step="raised", now=now)
        if alert.raised_out_of_hours:
            seen_from = covered.next_covered_start(now).astimezone(covered.tz)
            notify(
                recipient=person,
                kind=NotificationKind.INFO,
                title="When someone will see this",
                body=f"A welfare officer will see this from {seen_from:%A %d %B at %H:%M}. {CRISIS_CONTACTS}",
                dedup_key=f"{base}:out-of-hours",
                now=now,
                link="/support/",
            )
    return alert


@transaction.atomic
def lead_alert(*, code: str, key: str, now: datetime) -> Alert:
    """An operational alert for the welfare lead, about no person (e.g. a dead-lettered message)."""
    rule = engine.rule(code)
    lead = RoleAssignment.objects.filter(role=Role.WELFARE_LEAD).select_related("person").order_by("pk").first()
    covered = CoveredHours(organisation_get())
    alert, created = Alert.objects.get_or_create(
        dedup_key=f"{code}:{key}",
        defaults={
            "rule": code,
            "severity": rule.severity,
            "assignee": lead.person if lead else None,
            "created_at": now,
            "ack_due_at": covered.ack_deadline(rule.severity, now),
        },
    )
    if created and lead is not None:
        notify(
            recipient=lead.person,
            kind=NotificationKind.ALERT,
            title=rule.title,
            body="See the outbox on /status.",
            dedup_key=f"alert:{alert.public_id}:raised:{lead.person.public_id}",
            alert=alert,
            now=now,
        )
    return alert


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update(of=("self",)).select_related("person", "assignee", "unit").get(pk=alert.pk)


def _require_handler(alert: Alert, actor: Person) -> None:
    if alert.assignee_id != actor.pk:
        raise NotPermitted("This alert is not assigned to you.")


def _event(alert: Alert, kind: str, actor: Person | None, now: datetime, **extra: Any) -> None:
    AlertEvent.objects.create(alert=alert, at=now, kind=kind, actor=actor, **extra)
    audit.record(
        f"alerts.alert.{kind}",
        actor=actor,
        subject=alert.person,
        object_ref=str(alert.public_id),
        now=now,
        purpose=extra.get("outcome", ""),
    )


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Person, now: datetime) -> Alert:
    alert = _locked(alert)
    _require_handler(alert, actor)
    if alert.state != AlertState.OPEN:
        raise ValueError("Only an open alert can be acknowledged.")
    alert.state, alert.acknowledged_at = AlertState.ACKNOWLEDGED, now
    alert.save(update_fields=["state", "acknowledged_at"])
    _event(alert, AlertEventKind.ACKNOWLEDGED, actor, now)
    return alert


def may_handle(candidate: Person, alert: Alert) -> bool:
    """Welfare officers covering the alert's unit, or the welfare lead; never the subject or someone excluded."""
    if not candidate.is_active or (alert.person_id and candidate.pk == alert.person_id):
        return False
    if alert.person and exclusions_of(alert.person).filter(officer=candidate).exists():
        return False
    covers = RoleAssignment.objects.filter(person=candidate, role=Role.WELFARE_OFFICER, unit=alert.unit_id).exists()
    return covers or has_role(candidate, Role.WELFARE_LEAD)


@transaction.atomic
def alert_assign(*, alert: Alert, actor: Person, to: Person, now: datetime) -> Alert:
    alert = _locked(alert)
    if alert.assignee_id != actor.pk and not has_role(actor, Role.WELFARE_LEAD):
        raise NotPermitted("Only the alert's handler or the welfare lead can reassign it.")
    if alert.person_id and to.pk == alert.person_id:
        raise ValueError("An alert cannot be assigned to the person it is about.")
    if not may_handle(to, alert):
        raise ValueError("That person cannot handle this alert: not covering the unit, or excluded by the person.")
    alert.assignee = to
    alert.save(update_fields=["assignee"])
    _event(alert, AlertEventKind.ASSIGNED, actor, now, to=to)
    _tell_handler(alert, to, step=f"assigned-{AlertEvent.objects.filter(alert=alert).count()}", now=now)
    return alert


@transaction.atomic
def alert_record_action(*, alert: Alert, actor: Person, outcome: str, now: datetime) -> Alert:
    alert = _locked(alert)
    _require_handler(alert, actor)
    if outcome not in Outcome.values:
        raise ValueError(f"Choose an action: {', '.join(Outcome.values)}.")
    if alert.state == AlertState.CLOSED:
        raise ValueError("The alert is closed.")
    if alert.state == AlertState.OPEN:
        alert.acknowledged_at = alert.acknowledged_at or now
    alert.state = AlertState.ACTION_TAKEN
    alert.save(update_fields=["state", "acknowledged_at"])
    _event(alert, AlertEventKind.ACTION, actor, now, outcome=outcome)
    return alert


@transaction.atomic
def alert_close(*, alert: Alert, actor: Person, outcome: str, now: datetime) -> Alert:
    alert = _locked(alert)
    _require_handler(alert, actor)
    if outcome not in Outcome.values:
        raise ValueError(f"Closing an alert needs an outcome: {', '.join(Outcome.values)}.")
    if alert.state == AlertState.CLOSED:
        raise ValueError("The alert is already closed.")
    alert.state, alert.outcome, alert.closed_at = AlertState.CLOSED, outcome, now
    alert.acknowledged_at = alert.acknowledged_at or now
    alert.save(update_fields=["state", "outcome", "closed_at", "acknowledged_at"])
    _event(alert, AlertEventKind.CLOSED, actor, now, outcome=outcome)
    return alert


def alerts_escalate_overdue(*, now: datetime) -> int:
    """Swept by beat: an open alert past its acknowledgement deadline goes to the unit's backup officer,
    then the welfare lead; at most three rounds, each audited and shown on the alert."""
    escalated = 0
    covered = CoveredHours(organisation_get())
    overdue = Alert.objects.filter(state=AlertState.OPEN, ack_due_at__lt=now, escalation_round__lt=MAX_ROUNDS)
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("person", "unit", "assignee")
                .filter(pk=pk, state=AlertState.OPEN, ack_due_at__lt=now, escalation_round__lt=MAX_ROUNDS)
                .first()
            )
            if alert is None:
                continue
            round_no = alert.escalation_round + 1
            target = (
                escalation_target(alert.person, round_no=round_no, unit=alert.unit, current=alert.assignee)
                if alert.person
                else alert.assignee
            )
            alert.escalation_round, alert.breached = round_no, True
            alert.ack_due_at = covered.ack_deadline(alert.severity, now)
            if target is not None:
                alert.assignee = target
            alert.save(update_fields=["escalation_round", "breached", "ack_due_at", "assignee"])
            _event(alert, AlertEventKind.ESCALATED, None, now, to=target)
            if target is not None:
                _tell_handler(alert, target, step=f"escalated-{round_no}", now=now)
            escalated += 1
    return escalated


def _on_dead(message: OutboxMessage, now: datetime) -> None:
    lead_alert(code="alerts.outbox_dead_letter", key=str(message.public_id), now=now)


def outbox_relay_once(*, now: datetime, limit: int = 50) -> int:
    """Claims and sends one batch; returns how many were handled."""
    ids = outbox_claim(now=now, limit=limit)
    for pk in ids:
        outbox_deliver(pk=pk, now=now, on_dead=_on_dead)
    return len(ids)


@transaction.atomic
def notification_read(*, notification: Notification, now: datetime) -> Notification:
    if notification.read_at is None:
        notification.read_at = now
        notification.save(update_fields=["read_at"])
    return notification


def tenure_reviews_fire(*, now: datetime) -> int:
    """Swept daily, set-based: people whose summed time in exposed units reaches their unit policy's tenure
    threshold get the rotation-review rule once per threshold (overlaps are then checked exactly)."""
    today = now.date()
    shortest_threshold_days = 365
    spans = (
        Membership.objects.filter(team__unit__exposed_role=True, started_on__lte=today)
        .values("person_id")
        .annotate(
            days=Sum(
                ExpressionWrapper(Coalesce(F("ended_on"), Value(today)) - F("started_on"), output_field=DurationField())
            )
        )
    )
    already = set(
        Notification.objects.filter(dedup_key__startswith="alerts.tenure_review:").values_list(
            "recipient_id", flat=True
        )
    )
    fired = 0
    for row in spans:
        if row["person_id"] in already or row["days"] is None or row["days"].days < shortest_threshold_days:
            continue
        person = Person.objects.get(pk=row["person_id"])
        years = policy_for_person(person, on=today).tenure_review_years
        if exposed_tenure(person, on=today).days >= years * 365:
            rule_fire(code="alerts.tenure_review", person=person, period_key=f"{years}y", now=now)
            fired += 1
    return fired
