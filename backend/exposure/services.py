"""The only way exposure records are written, edited or deleted: validated, weighted, rolled up, serialised
per person, in one transaction."""

import datetime as dt
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Sum

from backend.audit import services as audit
from backend.consent.selectors import require
from backend.exposure import rollups, rules
from backend.exposure.models import (
    MAX_SECONDS,
    ExposureRecord,
    IdempotencyKey,
    MediaType,
    Preference,
    RecordKind,
    Safeguard,
    Source,
    Timer,
)
from backend.exposure.periods import local_date, starts
from backend.exposure.selectors import organisation_tz, severities, weights_current
from backend.exposure.weighting import Factors, dose_milli
from backend.organisation.models import Membership, Person

EDIT_WINDOW_DAYS = 7
MAX_ITEMS = 100_000
MAX_BACKDATE_DAYS = 366
CLOCK_SKEW = timedelta(minutes=2)


class RecordRejected(Exception):
    """Input that breaks a rule; ``errors`` maps each field to plain-language messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class TimerError(Exception):
    pass


@dataclass(frozen=True)
class RecordInput:
    kind: str
    media_type: str
    severity: str
    audio: bool = False
    unexpected: bool = False
    got_to_me: bool = False
    safeguards: tuple[str, ...] = ()
    items: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    date: dt.date | None = None
    minutes: int | None = None
    active_seconds: int | None = None  # a timer's running time, pauses excluded


@dataclass
class _Context:
    now: datetime
    tz: Any
    factors_by_severity: dict[str, int]
    weights: Any
    errors: dict[str, list[str]] = field(default_factory=dict)

    def reject(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _context(now: datetime) -> _Context:
    return _Context(
        now=now,
        tz=organisation_tz(),
        factors_by_severity={s.code: s.weight_milli for s in severities()},
        weights=weights_current(),
    )


def _lock(person: Person) -> None:
    """Serialises this person's writes so overlap, day-total and rule checks cannot race."""
    Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True).first()


def _team_on(person: Person, day: date) -> tuple[int | None, int | None]:
    membership = (
        Membership.objects.filter(person=person, started_on__lte=day)
        .exclude(ended_on__lt=day)
        .order_by("started_on", "pk")
        .values_list("team_id", "team__unit_id")
        .first()
    )
    return membership if membership else (None, None)


def _build(
    person: Person, data: RecordInput, ctx: _Context, *, exclude: ExposureRecord | None = None
) -> ExposureRecord | None:
    """Checks every rule, collecting messages in ctx; returns an unsaved record when all pass."""
    errors_before = len(ctx.errors)
    if data.media_type not in MediaType.values:
        ctx.reject("media_type", f"Unknown media type; use one of {', '.join(MediaType.values)}.")
    if data.severity not in ctx.factors_by_severity:
        ctx.reject("severity", f"Unknown severity; use one of {', '.join(ctx.factors_by_severity)}.")
    unknown = sorted(set(data.safeguards) - set(Safeguard.values))
    if unknown:
        ctx.reject("safeguards", f"Unknown safeguards {', '.join(unknown)}; use {', '.join(Safeguard.values)}.")
    if data.items is not None and not 0 <= data.items <= MAX_ITEMS:
        ctx.reject("items", f"An approximate item count is between 0 and {MAX_ITEMS:,}.")

    started_at = ended_at = None
    today = local_date(ctx.now, ctx.tz)
    if data.kind == RecordKind.SESSION:
        started_at, ended_at = data.started_at, data.ended_at
        if started_at is None or ended_at is None:
            ctx.reject("started_at", "A timed session needs a start and an end.")
            return None
        if started_at.tzinfo is None or ended_at.tzinfo is None:
            ctx.reject("started_at", "Give times with their offset, e.g. 2026-11-02T09:00:00+00:00.")
            return None
        span = int((ended_at - started_at).total_seconds())
        if ended_at <= started_at:
            ctx.reject("ended_at", "The end must be after the start.")
        if started_at > ctx.now + CLOCK_SKEW:
            ctx.reject("started_at", "The start is in the future.")
        elif ended_at > ctx.now + CLOCK_SKEW:
            ctx.reject("ended_at", "The end is in the future.")
        if span > MAX_SECONDS:
            ctx.reject("ended_at", "A session can be at most 16 hours long.")
        seconds = data.active_seconds if data.active_seconds is not None else span
        day = local_date(started_at, ctx.tz)
        if len(ctx.errors) == errors_before:
            overlapping = ExposureRecord.objects.filter(
                person=person, kind=RecordKind.SESSION, started_at__lt=ended_at, ended_at__gt=started_at
            )
            if exclude is not None:
                overlapping = overlapping.exclude(pk=exclude.pk)
            if overlapping.exists():
                ctx.reject("started_at", "This overlaps another of your timed sessions.")
            elif data.active_seconds is None and Timer.objects.filter(person=person, started_at__lt=ended_at).exists():
                ctx.reject("started_at", "This overlaps your running timer; stop the timer first.")
    else:
        if data.date is None or data.minutes is None:
            ctx.reject("date", "A day entry needs a date and minutes.")
            return None
        day, seconds = data.date, data.minutes * 60
        if day > today:
            ctx.reject("date", "The date is in the future.")
        elif day < today - timedelta(days=MAX_BACKDATE_DAYS):
            ctx.reject("date", "Day entries go back at most a year; use the CSV import for older history.")
        if not 1 <= data.minutes <= MAX_SECONDS // 60:
            ctx.reject("minutes", "Minutes in a day are between 1 and 960 (16 hours).")
    if len(ctx.errors) > errors_before:
        return None
    if seconds <= 0:
        ctx.reject("ended_at", "The session has no time in it.")
        return None

    logged = ExposureRecord.objects.filter(person=person, local_date=day)
    if exclude is not None:
        logged = logged.exclude(pk=exclude.pk)
    already = logged.aggregate(total=Sum("seconds"))["total"] or 0
    if already + seconds > MAX_SECONDS:
        ctx.reject(
            "minutes" if data.kind == RecordKind.DAY else "ended_at",
            f"That makes {round((already + seconds) / 3600, 1)} hours on {day:%d %b %Y}; a day holds at most 16.",
        )
        return None

    factors = Factors(
        media_milli=ctx.weights.media_milli(data.media_type),
        severity_milli=ctx.factors_by_severity[data.severity],
        audio_on_milli=ctx.weights.audio_on_milli,
        unexpected_milli=ctx.weights.unexpected_milli,
    )
    team_id, unit_id = _team_on(person, day)
    period_starts = starts(day)
    return ExposureRecord(
        person=person,
        kind=data.kind,
        team_id=team_id,
        unit_id=unit_id,
        local_date=day,
        week_start=period_starts["week"],
        month_start=period_starts["month"],
        quarter_start=period_starts["quarter"],
        started_at=started_at,
        ended_at=ended_at,
        seconds=seconds,
        media_type=data.media_type,
        severity=data.severity,
        audio=data.audio,
        unexpected=data.unexpected,
        got_to_me=data.got_to_me,
        safeguards=sorted(set(data.safeguards)),
        items=data.items,
        dose_milli=dose_milli(
            seconds=seconds, media_type=data.media_type, audio=data.audio, unexpected=data.unexpected, factors=factors
        ),
        weights_version=ctx.weights.version,
        created_at=ctx.now,
        updated_at=ctx.now,
    )


def _save(record: ExposureRecord, source: str) -> ExposureRecord:
    record.source = source
    record.save()
    rollups.apply(record, +1)
    return record


@transaction.atomic
def exposure_record_create(*, person: Person, data: RecordInput, source: str, now: datetime) -> ExposureRecord:
    require(person, "record")
    _lock(person)
    ctx = _context(now)
    record = _build(person, data, ctx)
    if record is None:
        raise RecordRejected(ctx.errors)
    _save(record, source)
    rules.evaluate_written(person=person, records=[record], now=now)
    return record


@transaction.atomic
def exposure_records_create_batch(
    *, person: Person, items: list[RecordInput], source: str, now: datetime
) -> list[ExposureRecord]:
    """All or nothing: every bad row is named, and if any is bad nothing is stored."""
    require(person, "record")
    _lock(person)
    errors: dict[str, list[str]] = {}
    created = []
    base = _context(now)
    for index, data in enumerate(items):
        ctx = replace(base, errors={})
        record = _build(person, data, ctx)
        if record is None:
            errors.update({f"records[{index}].{name}": messages for name, messages in ctx.errors.items()})
            continue
        created.append(_save(record, source))
    if errors:
        raise RecordRejected(errors)
    rules.evaluate_written(person=person, records=created, now=now)
    return created


def _input_from(record: ExposureRecord, changes: dict[str, Any]) -> RecordInput:
    current: dict[str, Any] = {
        "kind": record.kind,
        "media_type": record.media_type,
        "severity": record.severity,
        "audio": record.audio,
        "unexpected": record.unexpected,
        "got_to_me": record.got_to_me,
        "safeguards": tuple(record.safeguards),
        "items": record.items,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "date": record.local_date if record.kind == RecordKind.DAY else None,
        "minutes": record.seconds // 60 if record.kind == RecordKind.DAY else None,
    }
    if record.source == Source.TIMER and not {"started_at", "ended_at"} & set(changes):
        current["active_seconds"] = record.seconds
    current.update(changes)
    current["safeguards"] = tuple(current["safeguards"])
    return RecordInput(**current)


def _editable(record: ExposureRecord, now: datetime) -> None:
    if record.local_date < local_date(now, organisation_tz()) - timedelta(days=EDIT_WINDOW_DAYS):
        raise RecordRejected({"non_field_errors": ["Records can be changed or deleted for 7 days only."]})


@transaction.atomic
def exposure_record_update(
    *, person: Person, record: ExposureRecord, changes: dict[str, Any], now: datetime, request_id: str = ""
) -> ExposureRecord:
    _lock(person)
    record = ExposureRecord.objects.get(pk=record.pk, person=person)
    _editable(record, now)
    confirm = changes.pop("confirmed", None)
    ctx = _context(now)
    rebuilt = _build(person, _input_from(record, changes), ctx, exclude=record)
    if rebuilt is None:
        raise RecordRejected(ctx.errors)
    rollups.apply(record, -1)
    for name in (
        "team_id",
        "unit_id",
        "local_date",
        "week_start",
        "month_start",
        "quarter_start",
        "started_at",
        "ended_at",
        "seconds",
        "media_type",
        "severity",
        "audio",
        "unexpected",
        "got_to_me",
        "safeguards",
        "items",
        "dose_milli",
        "weights_version",
    ):
        setattr(record, name, getattr(rebuilt, name))
    if confirm:
        record.needs_confirmation = False
    record.updated_at = now
    record.save()
    rollups.apply(record, +1)
    rules.evaluate_written(person=person, records=[record], now=now)
    audit.record(
        "exposure.record.changed",
        actor=person,
        subject=person,
        object_ref=str(record.public_id),
        request_id=request_id,
        now=now,
    )
    return record


@transaction.atomic
def exposure_record_delete(*, person: Person, record: ExposureRecord, now: datetime, request_id: str = "") -> None:
    _lock(person)
    record = ExposureRecord.objects.get(pk=record.pk, person=person)
    _editable(record, now)
    rollups.apply(record, -1)
    audit.record(
        "exposure.record.deleted",
        actor=person,
        subject=person,
        object_ref=str(record.public_id),
        request_id=request_id,
        now=now,
    )
    record.delete()


# The timer ------------------------------------------------------------------------------------------


def _active_seconds(timer: Timer, until: datetime) -> int:
    paused = timer.paused_seconds + (int((until - timer.paused_at).total_seconds()) if timer.paused_at else 0)
    return max(0, int((until - timer.started_at).total_seconds()) - paused)


@transaction.atomic
def timer_start(*, person: Person, data: RecordInput, now: datetime) -> Timer:
    require(person, "record")
    _lock(person)
    if Timer.objects.filter(person=person).exists():
        raise TimerError("A timer is already running; stop it before starting another.")
    ctx = _context(now)
    probe = replace(data, kind=RecordKind.SESSION, started_at=now - timedelta(seconds=1), ended_at=now)
    _build(person, probe, ctx)
    attribute_errors = {k: v for k, v in ctx.errors.items() if k in ("media_type", "severity", "safeguards", "items")}
    if attribute_errors:
        raise RecordRejected(attribute_errors)
    return Timer.objects.create(
        person=person,
        media_type=data.media_type,
        severity=data.severity,
        audio=data.audio,
        unexpected=data.unexpected,
        got_to_me=data.got_to_me,
        safeguards=sorted(set(data.safeguards)),
        items=data.items,
        started_at=now,
    )


def _timer(person: Person) -> Timer:
    timer = Timer.objects.select_for_update().filter(person=person).first()
    if timer is None:
        raise TimerError("No timer is running.")
    return timer


@transaction.atomic
def timer_pause(*, person: Person, now: datetime) -> Timer:
    timer = _timer(person)
    if timer.paused_at is not None:
        raise TimerError("The timer is already paused.")
    timer.paused_at = now
    timer.save(update_fields=["paused_at"])
    return timer


@transaction.atomic
def timer_resume(*, person: Person, now: datetime) -> Timer:
    timer = _timer(person)
    if timer.paused_at is None:
        raise TimerError("The timer is not paused.")
    timer.paused_seconds += int((now - timer.paused_at).total_seconds())
    timer.paused_at = None
    timer.save(update_fields=["paused_at", "paused_seconds"])
    return timer


@transaction.atomic
def timer_stop(*, person: Person, now: datetime, source: str = Source.TIMER) -> ExposureRecord:
    """Writes the timed session (paused time excluded). A timer past 16 hours closes at 16 hours, flagged."""
    _lock(person)
    timer = _timer(person)
    end = min(now, timer.started_at + timedelta(seconds=MAX_SECONDS))
    active = _active_seconds(timer, end)
    if active <= 0:
        timer.delete()
        raise TimerError("The timer ran for no time; nothing was recorded.")
    data = RecordInput(
        kind=RecordKind.SESSION,
        media_type=timer.media_type,
        severity=timer.severity,
        audio=timer.audio,
        unexpected=timer.unexpected,
        got_to_me=timer.got_to_me,
        safeguards=tuple(timer.safeguards),
        items=timer.items,
        started_at=timer.started_at,
        ended_at=end,
        active_seconds=active,
    )
    ctx = _context(now)
    record = _build(person, data, ctx)
    if record is None:
        raise RecordRejected(ctx.errors)
    record.needs_confirmation = end < now
    timer.delete()
    _save(record, source)
    rules.evaluate_written(person=person, records=[record], now=now)
    return record


def timers_close_overdue(*, now: datetime) -> int:
    """Closes every timer left running past 16 hours (swept by beat). Returns how many closed."""
    closed = 0
    for person_id in Timer.objects.filter(started_at__lte=now - timedelta(seconds=MAX_SECONDS)).values_list(
        "person_id", flat=True
    ):
        person = Person.objects.get(pk=person_id)
        try:
            timer_stop(person=person, now=now)
            closed += 1
        except (TimerError, RecordRejected) as exc:
            # It cannot become a record (it overlaps one logged by hand, say): say so rather than loop forever.
            Timer.objects.filter(person_id=person_id).delete()
            audit.record("exposure.timer.discarded", actor=None, subject=person, purpose=str(exc)[:200], now=now)
    return closed


@transaction.atomic
def preference_set(*, person: Person, break_reminders: bool, break_after_minutes: int) -> Preference:
    preference, _ = Preference.objects.update_or_create(
        person=person, defaults={"break_reminders": break_reminders, "break_after_minutes": break_after_minutes}
    )
    return preference


def idempotent_call(
    *, person: Person, key: str, endpoint: str, request_hash: str, perform: Any, now: datetime
) -> tuple[int, Any]:
    """Runs ``perform`` once per (person, key): a repeat with the same body returns the first result and
    stores nothing new; the same key with a different body raises IdempotencyConflict."""
    with transaction.atomic():
        _lock(person)
        existing = IdempotencyKey.objects.filter(person=person, key=key).first()
        if existing is not None:
            if existing.request_hash != request_hash or existing.endpoint != endpoint:
                raise IdempotencyConflict("This Idempotency-Key was used with a different request.")
            return existing.status, existing.body
        status, body = perform()
        IdempotencyKey.objects.create(
            person=person,
            key=key,
            endpoint=endpoint,
            request_hash=request_hash,
            status=status,
            body=body,
            created_at=now,
        )
        return status, body


class IdempotencyConflict(Exception):
    pass
