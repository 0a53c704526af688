from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet, Sum

from backend.exposure.models import ExposureRecord, MediaType, Preference, SeverityCategory, Timer, Weights
from backend.exposure.periods import week_start
from backend.organisation.models import Person
from backend.organisation.selectors import organisation_get
from backend.policies.models import REVIEW_NOTE, LimitBasis
from backend.policies.selectors import policy_for_person


def organisation_tz() -> ZoneInfo:
    return ZoneInfo(organisation_get().time_zone)


def weights_current() -> Weights:
    return Weights.objects.first() or Weights()


def severities() -> QuerySet[SeverityCategory]:
    return SeverityCategory.objects.filter(active=True).order_by("position", "code")


def records_of(person: Person) -> QuerySet[ExposureRecord]:
    """A person's own records: only ever for that person (the API never passes anyone else)."""
    return ExposureRecord.objects.filter(person=person).order_by("-local_date", "-started_at", "-created_at")


def timer_of(person: Person) -> Timer | None:
    return Timer.objects.filter(person=person).first()


def preference_of(person: Person) -> Preference:
    return Preference.objects.filter(person=person).first() or Preference(person=person)


def summary_window(period: str, today: date) -> tuple[date, date]:
    if period == "day":
        return today, today
    if period == "week":
        return week_start(today), today
    return today - timedelta(days=27), today


def own_summary(person: Person, *, period: str, today: date) -> dict[str, Any]:
    """Minutes by kind of material against the person's limits: for the person only, never a single score."""
    start, end = summary_window(period, today)
    rows = (
        records_of(person)
        .filter(local_date__gte=start, local_date__lte=end)
        .order_by()
        .values("media_type")
        .annotate(seconds=Sum("seconds"), dose=Sum("dose_milli"), records=Count("id"))
    )
    by_media = {m.value: {"minutes": 0.0, "records": 0} for m in MediaType}
    total_seconds = total_dose = 0
    for row in rows:
        by_media[row["media_type"]] = {"minutes": round(row["seconds"] / 60, 1), "records": row["records"]}
        total_seconds += row["seconds"]
        total_dose += row["dose"]
    policy = policy_for_person(person, on=today)
    limit = {"day": policy.daily_limit, "week": policy.weekly_limit}.get(period)
    minutes = round(total_seconds / 60, 1)
    measured = round(total_dose / 1000, 1) if policy.limit_basis == LimitBasis.DOSE else minutes
    warning = limit * policy.early_warning_percent / 100 if limit else None
    return {
        "period": period,
        "from": start,
        "to": end,
        "minutes": minutes,
        "dose": round(total_dose / 1000, 1),
        "by_media_type": by_media,
        "limit_basis": policy.limit_basis,
        "limit_minutes": limit,
        "early_warning_minutes": round(warning) if warning else None,
        "over_early_warning": bool(warning and measured >= warning),
        "over_limit": bool(limit and measured > limit),
        "limits_note": REVIEW_NOTE if policy.is_default else f"Your unit's policy, version {policy.version}.",
    }


def usual_pattern(person: Person) -> dict[str, Any]:
    """Pre-fills the end-of-shift form from the person's most frequent recent entry."""
    recent = (
        records_of(person)
        .values("media_type", "severity", "audio", "seconds")
        .order_by("-local_date", "-created_at")[:20]
    )
    if not recent:
        return {"media_type": MediaType.STILL.value, "severity": "C", "audio": False, "minutes": 60}
    counts: dict[tuple[str, str, bool], int] = {}
    for row in recent:
        key = (row["media_type"], row["severity"], row["audio"])
        counts[key] = counts.get(key, 0) + 1
    media, severity, audio = max(counts, key=lambda k: counts[k])
    minutes = sorted(r["seconds"] for r in recent)[len(recent) // 2] // 60
    return {"media_type": media, "severity": severity, "audio": audio, "minutes": max(1, minutes)}
