from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from backend.alerts.deadlines import CoveredHours
from backend.organisation.models import Organisation

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def covered():  # type: ignore[no-untyped-def]
    return CoveredHours(Organisation.objects.get())  # 08:00–18:00 Monday to Friday, England's holidays


def at(y, m, d, h, minute=0):  # type: ignore[no-untyped-def]
    return datetime(y, m, d, h, minute, tzinfo=LONDON)


def test_urgent_is_one_covered_hour(covered):
    assert covered.ack_deadline("urgent", at(2026, 11, 18, 10)) == at(2026, 11, 18, 11)


def test_urgent_raised_late_on_friday_runs_into_monday(covered):
    assert covered.ack_deadline("urgent", at(2026, 11, 20, 17, 30)) == at(2026, 11, 23, 8, 30)


def test_outside_covered_hours_the_clock_starts_at_the_next_window(covered):
    assert covered.ack_deadline("urgent", at(2026, 11, 21, 3)) == at(2026, 11, 23, 9)
    assert covered.next_covered_start(at(2026, 11, 21, 3)) == at(2026, 11, 23, 8)


def test_high_is_one_working_day_and_normal_three(covered):
    assert covered.ack_deadline("high", at(2026, 11, 18, 15)) == at(2026, 11, 19, 15)
    assert covered.ack_deadline("normal", at(2026, 11, 18, 15)) == at(2026, 11, 23, 15)


def test_public_holidays_are_not_covered(covered):
    # Friday 25 and Monday 28 December 2026 are bank holidays in England.
    assert covered.ack_deadline("high", at(2026, 12, 24, 12)) == at(2026, 12, 29, 12)


def test_clock_changes_move_nothing(covered):
    # The clocks go back on Sunday 25 October 2026: covered hours stay 08:00–18:00 local.
    deadline = covered.ack_deadline("urgent", at(2026, 10, 23, 17, 30))
    assert deadline == at(2026, 10, 26, 8, 30)
    assert deadline.astimezone(UTC).hour == 8  # GMT again


def test_an_organisation_in_scotland_uses_scottish_holidays():
    org = Organisation.objects.get()
    org.holiday_region = "GB-SCT"
    covered = CoveredHours(org)
    assert not covered.is_covered_day(date(2026, 1, 2))  # 2 January: a holiday in Scotland only
    org.holiday_region = "GB-ENG"
    assert CoveredHours(org).is_covered_day(date(2026, 1, 2))
