from datetime import UTC, datetime, timedelta

import pytest

from backend.alerts.models import Notification
from backend.checkins.models import DueCheckIn, FollowUp
from backend.checkins.services import check_ins_notify_due, follow_up_trigger

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def test_due_check_ins_are_notified_once_and_the_follow_up_closes_when_spent(personas):
    _, created = follow_up_trigger(
        person=personas.investigator,
        trigger="unexpected",
        now=NOW,
        first_after=timedelta(hours=72),
        second_after=timedelta(days=28),
    )
    assert created
    assert check_ins_notify_due(now=NOW + timedelta(hours=71)) == 0
    assert check_ins_notify_due(now=NOW + timedelta(hours=73)) == 1
    assert check_ins_notify_due(now=NOW + timedelta(hours=74)) == 0
    assert Notification.objects.filter(recipient=personas.investigator, kind="checkin").count() == 1
    assert check_ins_notify_due(now=NOW + timedelta(days=29)) == 1
    assert FollowUp.objects.get().closed_at is None
    check_ins_notify_due(now=NOW + timedelta(days=43))
    assert FollowUp.objects.get().closed_at is not None
    _, reopened = follow_up_trigger(
        person=personas.investigator,
        trigger="live",
        now=NOW + timedelta(days=44),
        first_after=timedelta(hours=72),
        second_after=timedelta(days=28),
    )
    assert reopened and DueCheckIn.objects.count() == 4
