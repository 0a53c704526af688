from datetime import datetime
from typing import Any

from backend.common.privacy_spec import PersonalData
from backend.exposure.imports import import_jobs_erase, import_jobs_export, import_jobs_retain
from backend.exposure.models import DayRollup, ExposureRecord, IdempotencyKey, PeriodRollup, Preference, Timer
from backend.exposure.selectors import records_of
from backend.organisation.models import Person


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "kind": r.kind,
            "date": r.local_date.isoformat(),
            "started_at": r.started_at and r.started_at.isoformat(),
            "ended_at": r.ended_at and r.ended_at.isoformat(),
            "minutes": r.minutes,
            "dose": r.dose_milli / 1000,
            "media_type": r.media_type,
            "severity": r.severity,
            "audio": r.audio,
            "unexpected": r.unexpected,
            "got_to_me": r.got_to_me,
            "safeguards": r.safeguards,
            "items": r.items,
            "source": r.source,
        }
        for r in records_of(person).iterator()
    ]


def _erase(person: Person, now: datetime) -> int:
    """Records and the person's contribution to every rollup go together: rollup rows are per person, so
    deleting the person's rows removes exactly what their records added."""
    DayRollup.objects.filter(person=person).delete()
    PeriodRollup.objects.filter(person=person).delete()
    Timer.objects.filter(person=person).delete()
    Preference.objects.filter(person=person).delete()
    IdempotencyKey.objects.filter(person=person).delete()
    deleted, _ = ExposureRecord.objects.filter(person=person).delete()
    return deleted


PERSONAL_DATA = [
    PersonalData(
        name="exposure.imports",
        description="Your CSV imports: when, how many rows were read and stored, and the problems found "
        "(line and column, never a value from the file).",
        export=import_jobs_export,
        erase=import_jobs_erase,
        retain=import_jobs_retain,
    ),
    PersonalData(
        name="exposure.records",
        description="Your timed sessions and day entries, with their kind of material and weighted exposure.",
        export=_export,
        erase=_erase,
    ),
]
