"""Exact rollups, changed in the same transaction as every write, edit, delete and erasure.

The person's row is locked by the caller, so only one transaction at a time adds to a person's cells.
"""

from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import F, Sum

from backend.exposure.models import DayRollup, ExposureRecord, Period, PeriodRollup

_PERIOD_FIELD = {Period.WEEK: "week_start", Period.MONTH: "month_start", Period.QUARTER: "quarter_start"}


def _bump(
    model: type[DayRollup] | type[PeriodRollup], keys: dict[str, object], record: ExposureRecord, sign: int
) -> None:
    deltas = {"seconds": sign * record.seconds, "dose_milli": sign * record.dose_milli, "records": sign}
    updated = model.objects.filter(**keys).update(**{name: F(name) + value for name, value in deltas.items()})
    if not updated:
        if sign < 0:
            raise RuntimeError(f"rollup cell missing for {keys}")
        model.objects.create(**keys, unit_id=record.unit_id, **deltas)
    elif sign < 0:
        model.objects.filter(**keys, records__lte=0).delete()


def apply(record: ExposureRecord, sign: int) -> None:
    """Adds (+1) or removes (-1) one record's contribution to every rollup it counts in."""
    base = {
        "person_id": record.person_id,
        "team_id": record.team_id,
        "media_type": record.media_type,
        "severity": record.severity,
    }
    _bump(DayRollup, {**base, "day": record.local_date}, record, sign)
    for period, field in _PERIOD_FIELD.items():
        _bump(PeriodRollup, {**base, "period": period, "period_start": getattr(record, field)}, record, sign)


@transaction.atomic
def rebuild(progress: Callable[[int], object] | None = None) -> dict[str, int]:
    """Recomputes every rollup from the records, set-based, in one transaction."""
    DayRollup.objects.all().delete()
    PeriodRollup.objects.all().delete()
    records = ExposureRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DayRollup._meta.db_table} "  # noqa: S608 - table names from the models, no input
            "(person_id, team_id, unit_id, day, media_type, severity, seconds, dose_milli, records) "
            "SELECT person_id, team_id, MIN(unit_id), local_date, media_type, severity, SUM(seconds), "
            f"SUM(dose_milli), COUNT(*) FROM {records} GROUP BY person_id, team_id, local_date, media_type, severity"
        )
        if progress:
            progress(1)
        for period, field in _PERIOD_FIELD.items():
            cursor.execute(
                f"INSERT INTO {PeriodRollup._meta.db_table} "  # noqa: S608 - table names from the models, no input
                "(person_id, team_id, unit_id, period, period_start, media_type, severity, seconds, dose_milli, "
                "records) "
                f"SELECT person_id, team_id, MIN(unit_id), %s, {field}, media_type, severity, SUM(seconds), "
                f"SUM(dose_milli), COUNT(*) FROM {records} GROUP BY person_id, team_id, {field}, media_type, severity",
                [period.value],
            )
            if progress:
                progress(1)
    return {
        "day_rows": DayRollup.objects.count(),
        "period_rows": PeriodRollup.objects.count(),
        "seconds": DayRollup.objects.aggregate(total=Sum("seconds"))["total"] or 0,
    }
