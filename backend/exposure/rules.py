"""Exposure rules, registered with the alerts engine and evaluated inside the transaction that writes a
record, so an alert exists exactly when its cause does."""

from datetime import date, datetime, timedelta

from django.db.models import Sum

from backend.alerts.engine import Rule, register
from backend.alerts.services import rule_fire
from backend.checkins.services import follow_up_trigger
from backend.exposure.models import ExposureRecord, MediaType
from backend.organisation.models import Person
from backend.policies.models import LimitBasis, Policy
from backend.policies.selectors import policy_for_person

DAILY_WARNING = register(
    Rule(
        code="exposure.daily_early_warning",
        severity="normal",
        title="Near today's limit",
        person_message="You are close to today's exposure limit. Consider a break or lighter work for the rest of "
        "the day.",
        alerts_welfare=False,
    )
)
WEEKLY_WARNING = register(
    Rule(
        code="exposure.weekly_early_warning",
        severity="normal",
        title="Near this week's limit",
        person_message="You are close to this week's exposure limit.",
        alerts_welfare=False,
    )
)
DAILY_LIMIT = register(
    Rule(
        code="exposure.daily_limit",
        severity="high",
        title="Daily limit passed",
        person_message="You have passed today's exposure limit.",
        books_checkin=True,
    )
)
WEEKLY_LIMIT = register(
    Rule(
        code="exposure.weekly_limit",
        severity="high",
        title="Weekly limit passed",
        person_message="You have passed this week's exposure limit.",
        books_checkin=True,
    )
)
HEAVY_DAYS = register(
    Rule(
        code="exposure.heavy_days",
        severity="normal",
        title="Several heavy days in a row",
        person_message="You have had several heavy days in a row.",
        books_checkin=True,
    )
)
FOLLOW_UP = register(
    Rule(
        code="exposure.follow_up",
        severity="normal",
        title="Follow-up after a distressing exposure",
        person_message="Check-ins are booked for 72 hours and 28 days from now. Support is there any time.",
    )
)


def _measure(person: Person, policy: Policy, **filters: object) -> float:
    totals = ExposureRecord.objects.filter(person=person, **filters).aggregate(s=Sum("seconds"), d=Sum("dose_milli"))
    if policy.limit_basis == LimitBasis.DOSE:
        return (totals["d"] or 0) / 1000
    return (totals["s"] or 0) / 60


def _heavy_streak_start(person: Person, policy: Policy, day: date, warning: float) -> date | None:
    """The first day of a run of ``policy.heavy_days`` or more consecutive heavy days ending on ``day``."""
    days = policy.heavy_days
    start = day - timedelta(days=days - 1)
    rows = (
        ExposureRecord.objects.filter(person=person, local_date__gte=start, local_date__lte=day)
        .values("local_date")
        .annotate(s=Sum("seconds"), d=Sum("dose_milli"))
    )
    heavy = {
        r["local_date"]
        for r in rows
        if ((r["d"] / 1000) if policy.limit_basis == LimitBasis.DOSE else (r["s"] / 60)) >= warning
    }
    if all(start + timedelta(days=i) in heavy for i in range(days)):
        return start
    return None


def evaluate_written(*, person: Person, records: list[ExposureRecord], now: datetime) -> None:
    """Runs every exposure rule for the days and weeks these records touch."""
    policy = policy_for_person(person, on=now.date())
    for day in sorted({r.local_date for r in records}):
        today = _measure(person, policy, local_date=day)
        warning = policy.daily_limit * policy.early_warning_percent / 100
        if today >= warning:
            rule_fire(code=DAILY_WARNING.code, person=person, period_key=day.isoformat(), now=now)
        if today > policy.daily_limit:
            rule_fire(code=DAILY_LIMIT.code, person=person, period_key=day.isoformat(), now=now)
        if today >= warning:
            streak = _heavy_streak_start(person, policy, day, warning)
            if streak is not None:
                rule_fire(code=HEAVY_DAYS.code, person=person, period_key=streak.isoformat(), now=now)
    for week in sorted({r.week_start for r in records}):
        total = _measure(person, policy, week_start=week)
        if total >= policy.weekly_limit * policy.early_warning_percent / 100:
            rule_fire(code=WEEKLY_WARNING.code, person=person, period_key=week.isoformat(), now=now)
        if total > policy.weekly_limit:
            rule_fire(code=WEEKLY_LIMIT.code, person=person, period_key=week.isoformat(), now=now)
    for record in records:
        triggers = [
            name
            for name, applies in (
                ("unexpected", record.unexpected and policy.follow_up_on_unexpected),
                ("live", record.media_type == MediaType.LIVE and policy.follow_up_on_live),
                ("got_to_me", record.got_to_me and policy.follow_up_on_got_to_me),
            )
            if applies
        ]
        for trigger in triggers:
            follow_up, _ = follow_up_trigger(
                person=person,
                trigger=trigger,
                now=now,
                first_after=timedelta(hours=policy.follow_up_first_hours),
                second_after=timedelta(days=policy.follow_up_second_days),
            )
            rule_fire(code=FOLLOW_UP.code, person=person, period_key=str(follow_up.public_id), now=now)
