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


def _add(record: ExposureRecord) -> None:
    """Adds a record to its four cells in two upserts (the hot path of every write)."""
    team_clause = "team_id IS NOT NULL" if record.team_id is not None else "team_id IS NULL"
    team_cols = ", team_id" if record.team_id is not None else ""
    adapt = connection.ops.adapt_datefield_value
    common = [record.person_id, record.team_id, record.unit_id, record.media_type, record.severity]
    totals = [record.seconds, record.dose_milli, 1]
    bump = (
        "DO UPDATE SET seconds = {t}.seconds + EXCLUDED.seconds, dose_milli = {t}.dose_milli + EXCLUDED.dose_milli, "
        "records = {t}.records + EXCLUDED.records"
    )
    day_table, period_table = DayRollup._meta.db_table, PeriodRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {day_table} (person_id, team_id, unit_id, media_type, severity, day, seconds, dose_milli, "  # noqa: S608
            "records) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (person_id, day, media_type, severity{team_cols}) WHERE {team_clause} "
            + bump.format(t=day_table),
            [*common, adapt(record.local_date), *totals],
        )
        rows = [
            [*common, period.value, adapt(getattr(record, field)), *totals] for period, field in _PERIOD_FIELD.items()
        ]
        cursor.execute(
            f"INSERT INTO {period_table} (person_id, team_id, unit_id, media_type, severity, period, period_start, "  # noqa: S608
            "seconds, dose_milli, records) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
            + f" ON CONFLICT (person_id, period, period_start, media_type, severity{team_cols}) WHERE {team_clause} "
            + bump.format(t=period_table),
            [value for row in rows for value in row],
        )


def apply(record: ExposureRecord, sign: int) -> None:
    """Adds (+1) or removes (-1) one record's contribution to every rollup it counts in."""
    if sign > 0:
        _add(record)
        return
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
