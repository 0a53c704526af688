"""Rollups kept incrementally in every write equal a full rebuild from the records, whatever happened."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.consent.services import choice_set
from backend.exposure import rollups
from backend.exposure.models import DayRollup, ExposureRecord, PeriodRollup, RecordKind
from backend.exposure.services import (
    RecordInput,
    RecordRejected,
    exposure_record_create,
    exposure_record_delete,
    exposure_record_update,
)
from backend.privacy.services import record_erase
from tests.conftest import choose

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)  # spans the clock change in Europe/London (29 March 2026)


def snapshot():  # type: ignore[no-untyped-def]
    day = sorted(
        DayRollup.objects.values_list(
            "person_id", "team_id", "day", "media_type", "severity", "seconds", "dose_milli", "records"
        )
    )
    period = sorted(
        PeriodRollup.objects.values_list(
            "person_id",
            "team_id",
            "period",
            "period_start",
            "media_type",
            "severity",
            "seconds",
            "dose_milli",
            "records",
        )
    )
    return day, period


operation = st.one_of(
    st.tuples(
        st.just("session"),
        st.integers(0, 2),
        st.integers(1, 40 * 24),
        st.integers(1, 600),
        st.sampled_from(["still", "video", "live", "text"]),
        st.sampled_from(["A", "B", "C", "other"]),
        st.booleans(),
    ),
    st.tuples(
        st.just("day"),
        st.integers(0, 2),
        st.integers(0, 40),
        st.integers(1, 600),
        st.sampled_from(["still", "audio"]),
        st.sampled_from(["A", "C"]),
        st.booleans(),
    ),
    st.tuples(st.just("edit"), st.integers(0, 50), st.sampled_from(["A", "B", "C"]), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("erase"), st.integers(0, 2)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_incremental_rollups_equal_a_rebuild_after_any_sequence(personas, ops):
    people = [personas.investigator, personas.teammate, personas.outsider]
    with transaction.atomic():
        for p in people:
            choose(p, "record")
        for op in ops:
            try:
                if op[0] in ("session", "day"):
                    _, who, back, minutes, media, severity, flag = op
                    if op[0] == "session":
                        start = NOW - timedelta(hours=back)
                        data = RecordInput(
                            kind=RecordKind.SESSION,
                            media_type=media,
                            severity=severity,
                            audio=flag,
                            started_at=start,
                            ended_at=start + timedelta(minutes=minutes),
                        )
                    else:
                        data = RecordInput(
                            kind=RecordKind.DAY,
                            media_type=media,
                            severity=severity,
                            unexpected=flag,
                            date=(NOW - timedelta(days=back)).date(),
                            minutes=minutes,
                        )
                    exposure_record_create(person=people[who], data=data, source="api", now=NOW)
                elif op[0] in ("edit", "delete"):
                    records = list(ExposureRecord.objects.order_by("pk"))
                    if not records:
                        continue
                    record = records[op[1] % len(records)]
                    if op[0] == "edit":
                        exposure_record_update(
                            person=record.person,
                            record=record,
                            now=NOW,
                            changes={"severity": op[2], "got_to_me": op[3]},
                        )
                    else:
                        exposure_record_delete(person=record.person, record=record, now=NOW)
                else:
                    person = people[op[1]]
                    if ExposureRecord.objects.filter(person=person).exists():
                        choice_set(person=person, choice="record", given=False, channel="api", now=NOW)
                        record_erase(person=person, now=NOW)
                        choose(person, "record")
            except RecordRejected:
                pass
        incremental = snapshot()
        assert sum(r[5] for r in incremental[0]) == sum(ExposureRecord.objects.values_list("seconds", flat=True))
        rollups.rebuild()
        assert snapshot() == incremental
        transaction.set_rollback(True)


def test_rebuild_command_recomputes_from_records(personas):
    from io import StringIO

    from django.core.management import call_command

    choose(personas.investigator, "record")
    exposure_record_create(
        person=personas.investigator,
        data=RecordInput(kind=RecordKind.DAY, media_type="video", severity="A", date=NOW.date(), minutes=30),
        source="api",
        now=NOW,
    )
    before = snapshot()
    DayRollup.objects.all().delete()
    call_command("rebuild_rollups", stdout=StringIO(), stderr=StringIO())
    assert snapshot() == before
