"""Synthetic exposure history for the demo and benchmarks: weekday patterns by unit, some unexpected
exposure and "this one got to me" flags. Bulk inserts (COPY on PostgreSQL), bounded memory, then one
set-based rollup rebuild. Never used for real people's records."""

import json
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from backend.consent.models import ConsentState
from backend.exposure import rollups
from backend.exposure.models import ExposureRecord, MediaType, RecordKind, Source
from backend.exposure.periods import starts
from backend.exposure.selectors import organisation_tz, severities, weights_current
from backend.exposure.weighting import Factors, dose_milli
from backend.organisation.models import Membership

PEOPLE_PER_BATCH = 500
# What each kind of unit mostly looks at, and how heavy a typical day is (minutes).
PROFILES = {
    "Image Assessment Hub": ([MediaType.STILL] * 6 + [MediaType.VIDEO] * 3 + [MediaType.AUDIO], 200),
    "Online Child Sexual Exploitation Team": ([MediaType.VIDEO] * 3 + [MediaType.TEXT] * 3 + [MediaType.LIVE], 150),
    "Digital Forensics Unit": ([MediaType.STILL] * 4 + [MediaType.VIDEO] * 2 + [MediaType.AUDIO], 120),
}
DEFAULT_PROFILE = ([MediaType.TEXT] * 3 + [MediaType.STILL], 40)
SEVERITY_MIX = ["A"] + ["B"] * 2 + ["C"] * 5 + ["other"] * 2
COLUMNS = [
    "public_id",
    "person_id",
    "kind",
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
    "source",
    "needs_confirmation",
    "created_at",
    "updated_at",
]


def _rows(
    rng: random.Random, *, today: date, days: int, tz: ZoneInfo, now: datetime
) -> Iterator[list[tuple[object, ...]]]:
    weights = weights_current()
    severity_milli = {s.code: s.weight_milli for s in severities()}
    sharing = ConsentState.objects.filter(record=True).values("person_id")
    memberships = (
        Membership.objects.filter(person_id__in=sharing, ended_on__isnull=True)
        .select_related("team__unit")
        .order_by("person_id", "started_on")
    )
    batch: list[tuple[object, ...]] = []
    people = 0
    seen: set[int] = set()
    for membership in memberships.iterator(chunk_size=2000):
        if membership.person_id in seen:
            continue
        seen.add(membership.person_id)
        media_choices, typical = PROFILES.get(membership.team.unit.name, DEFAULT_PROFILE)
        heaviness = rng.uniform(0.5, 1.4)
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5 or day < membership.started_on or rng.random() < 0.12:
                continue
            remaining = int(min(900, max(10, rng.gauss(typical * heaviness, typical * 0.35))))
            clock = datetime.combine(day, time(8, rng.randrange(0, 60, 5)), tzinfo=tz)
            for part in range(rng.choice([1, 1, 2, 3])):
                minutes = remaining if part == 2 else max(5, int(remaining * rng.uniform(0.3, 0.7)))
                remaining -= minutes
                media = rng.choice(media_choices)
                severity = rng.choice(SEVERITY_MIX)
                audio = media in (MediaType.VIDEO, MediaType.LIVE) and rng.random() < 0.6
                unexpected = rng.random() < 0.03
                got_to_me = rng.random() < (0.08 if severity == "A" else 0.02)
                seconds = minutes * 60
                factors = Factors(
                    weights.media_milli(media),
                    severity_milli[severity],
                    weights.audio_on_milli,
                    weights.unexpected_milli,
                )
                timed = rng.random() < 0.35
                started = clock.astimezone(UTC) if timed else None
                ended = (clock + timedelta(seconds=seconds)).astimezone(UTC) if timed else None
                clock += timedelta(seconds=seconds + 15 * 60)
                period = starts(day)
                batch.append(
                    (
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        membership.person_id,
                        RecordKind.SESSION.value if timed else RecordKind.DAY.value,
                        membership.team_id,
                        membership.team.unit_id,
                        day,
                        period["week"],
                        period["month"],
                        period["quarter"],
                        started,
                        ended,
                        seconds,
                        media.value,
                        severity,
                        audio,
                        unexpected,
                        got_to_me,
                        ["greyscale"] if rng.random() < 0.2 else [],
                        rng.choice([None, rng.randint(10, 4000)]),
                        dose_milli(
                            seconds=seconds, media_type=media, audio=audio, unexpected=unexpected, factors=factors
                        ),
                        weights.version,
                        Source.SEED.value,
                        False,
                        now,
                        now,
                    )
                )
                if remaining < 5:
                    break
        people += 1
        if people % PEOPLE_PER_BATCH == 0:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(batch: list[tuple[object, ...]]) -> None:
    if connection.vendor == "postgresql":
        safeguards = COLUMNS.index("safeguards")
        copy_sql = f"COPY {ExposureRecord._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in batch:
                copy.write_row((*row[:safeguards], json.dumps(row[safeguards]), *row[safeguards + 1 :]))
        return
    ExposureRecord.objects.bulk_create(
        (ExposureRecord(**dict(zip(COLUMNS, row, strict=True))) for row in batch), batch_size=2000
    )


def seed_exposure(
    rng: random.Random, *, today: date, days: int, progress: Callable[[int], object] = lambda n: None
) -> int:
    """Writes history for everyone who chose `record`, then rebuilds the rollups. Returns records written."""
    if days <= 0:
        return 0
    tz = organisation_tz()
    now = datetime.combine(today, time(18, 0), tzinfo=UTC)
    written = 0
    for batch in _rows(rng, today=today, days=days, tz=tz, now=now):
        _insert(batch)
        written += len(batch)
        progress(len(batch))
    rollups.rebuild()
    return written


__all__ = ["seed_exposure"]
