"""Thresholds that act: each exposure rule, who hears, exclusions, exactly once."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.alerts.models import Alert, Notification, NotificationKind, OutboxMessage
from backend.checkins.models import DueCheckIn, FollowUp
from backend.consent.services import exclusion_add
from backend.exposure.models import RecordKind
from backend.exposure.services import RecordInput, exposure_record_create
from tests.conftest import choose

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday afternoon, inside covered hours


def log(person, minutes, *, day=None, media="still", severity="C", **flags):  # type: ignore[no-untyped-def]
    data = RecordInput(
        kind=RecordKind.DAY, media_type=media, severity=severity, date=day or NOW.date(), minutes=minutes, **flags
    )
    return exposure_record_create(person=person, data=data, source="api", now=NOW)


def nudges(person, code):  # type: ignore[no-untyped-def]
    return Notification.objects.filter(recipient=person, dedup_key__startswith=f"{code}:")


def test_early_warning_goes_to_the_person_only(personas):
    choose(personas.investigator, "record", "welfare")
    log(personas.investigator, 200)  # 80% of 240 is 192
    assert nudges(personas.investigator, "exposure.daily_early_warning").count() == 1
    assert not Alert.objects.exists()


def test_a_daily_limit_breach_with_welfare_alerts_the_covering_officer(personas):
    choose(personas.investigator, "record", "welfare")
    log(personas.investigator, 250)
    alert = Alert.objects.get(rule="exposure.daily_limit")
    assert (alert.person, alert.assignee, alert.severity, alert.unit) == (
        personas.investigator,
        personas.welfare_officer,
        "high",
        personas.unit,
    )
    assert alert.ack_due_at == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # one working day of covered time
    assert (
        Notification.objects.filter(
            recipient=personas.welfare_officer, alert=alert, kind=NotificationKind.ALERT
        ).count()
        == 1
    )
    email = OutboxMessage.objects.get(kind="email")
    assert email.payload["to"] == str(personas.welfare_officer.public_id)
    assert "limit" not in email.payload["body"].lower() and personas.investigator.name not in email.payload["body"]
    assert nudges(personas.investigator, "exposure.daily_limit").filter(kind=NotificationKind.CHECKIN).count() == 1


def test_without_welfare_only_the_person_hears(personas):
    choose(personas.investigator, "record")
    log(personas.investigator, 250)
    assert not Alert.objects.exists() and not OutboxMessage.objects.exists()
    assert nudges(personas.investigator, "exposure.daily_limit").exists()
    assert not Notification.objects.exclude(recipient=personas.investigator).exists()


def test_an_excluded_officer_never_hears_and_the_alert_goes_to_the_backup(personas):
    from tests.factories import PersonFactory, RoleFactory

    backup = PersonFactory(username="backup")
    RoleFactory(person=backup, role="welfare_officer", unit=personas.other_unit)
    personas.unit.backup_welfare_officer = backup
    personas.unit.save()
    choose(personas.investigator, "record", "welfare")
    exclusion_add(person=personas.investigator, officer=personas.welfare_officer, now=NOW)
    log(personas.investigator, 250)
    alert = Alert.objects.get()
    assert alert.assignee == backup
    assert not Notification.objects.filter(recipient=personas.welfare_officer).exists()


def test_the_person_never_handles_their_own_alert(personas):
    from backend.organisation.models import RoleAssignment

    RoleAssignment.objects.filter(role="welfare_officer").delete()
    RoleAssignment.objects.create(person=personas.investigator, role="welfare_officer", unit=personas.unit)
    choose(personas.investigator, "record", "welfare")
    log(personas.investigator, 250)
    assert Alert.objects.get().assignee == personas.lead


def test_each_crossing_alerts_exactly_once(personas):
    choose(personas.investigator, "record", "welfare")
    log(personas.investigator, 250)
    log(personas.investigator, 30)
    log(personas.investigator, 30)
    assert Alert.objects.filter(rule="exposure.daily_limit").count() == 1
    assert Notification.objects.filter(recipient=personas.welfare_officer).count() == 1
    assert OutboxMessage.objects.count() == 1


def test_weekly_limit(personas):
    choose(personas.investigator, "record", "welfare")
    monday = NOW.date() - timedelta(days=NOW.weekday())
    for offset in range(3):
        log(personas.investigator, 190, day=monday + timedelta(days=offset))
    assert not Alert.objects.filter(rule="exposure.weekly_limit").exists()
    log(personas.investigator, 200, day=NOW.date() - timedelta(days=7))  # last week does not count
    assert not Alert.objects.filter(rule="exposure.weekly_limit").exists()
    log(personas.investigator, 400, day=monday)
    assert Alert.objects.filter(rule="exposure.weekly_limit").count() == 1


def test_three_heavy_days_in_a_row_book_a_check_in(personas):
    choose(personas.investigator, "record", "welfare")
    for back in (2, 1):
        log(personas.investigator, 200, day=NOW.date() - timedelta(days=back))
    assert not Alert.objects.filter(rule="exposure.heavy_days").exists()
    log(personas.investigator, 200)
    assert Alert.objects.filter(rule="exposure.heavy_days").count() == 1
    assert nudges(personas.investigator, "exposure.heavy_days").filter(kind=NotificationKind.CHECKIN).exists()


@pytest.mark.parametrize("flags", [{"unexpected": True}, {"got_to_me": True}, {"media": "live"}])
def test_follow_up_triggers_open_one_follow_up_with_check_ins_at_72_hours_and_28_days(personas, flags):
    choose(personas.investigator, "record", "welfare")
    media = flags.pop("media", "still")
    log(personas.investigator, 20, media=media, **flags)
    follow_up = FollowUp.objects.get(person=personas.investigator, closed_at__isnull=True)
    due = sorted(DueCheckIn.objects.filter(follow_up=follow_up).values_list("due_at", flat=True))
    assert due == [NOW + timedelta(hours=72), NOW + timedelta(days=28)]
    assert Alert.objects.filter(rule="exposure.follow_up").count() == 1


def test_new_triggers_join_the_open_follow_up(personas):
    choose(personas.investigator, "record")
    log(personas.investigator, 20, unexpected=True)
    log(personas.investigator, 20, got_to_me=True)
    follow_up = FollowUp.objects.get()
    assert follow_up.triggers == ["unexpected", "got_to_me"]
    assert DueCheckIn.objects.count() == 2


def test_a_rolled_back_record_leaves_no_alert(personas):
    from django.db import transaction

    choose(personas.investigator, "record", "welfare")
    with pytest.raises(RuntimeError), transaction.atomic():
        log(personas.investigator, 250)
        raise RuntimeError("the request failed after the write")
    assert not Alert.objects.exists() and not Notification.objects.exists() and not OutboxMessage.objects.exists()


def test_outside_covered_hours_the_person_is_told_when_someone_will_see_it(personas):
    choose(personas.investigator, "record", "welfare")
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    exposure_record_create(
        person=personas.investigator,
        data=RecordInput(kind=RecordKind.DAY, media_type="video", severity="A", date=saturday.date(), minutes=250),
        source="api",
        now=saturday,
    )
    alert = Alert.objects.get(rule="exposure.daily_limit")
    assert alert.raised_out_of_hours
    told = Notification.objects.get(recipient=personas.investigator, title="When someone will see this")
    assert "Monday 23 November at 08:00" in told.body and "Samaritans 116 123" in told.body


def test_tenure_reviews_fire_once_at_the_policy_threshold(personas):
    from backend.alerts.services import tenure_reviews_fire
    from backend.organisation.models import Membership

    choose(personas.investigator, "record", "welfare")
    Membership.objects.filter(person=personas.investigator).update(started_on=NOW.date() - timedelta(days=3 * 365 + 1))
    Membership.objects.filter(person=personas.teammate).update(started_on=NOW.date() - timedelta(days=2 * 365))
    assert tenure_reviews_fire(now=NOW) == 1
    assert tenure_reviews_fire(now=NOW) == 0
    assert nudges(personas.investigator, "alerts.tenure_review").count() == 1
    assert Alert.objects.get(rule="alerts.tenure_review").assignee == personas.welfare_officer
    assert not nudges(personas.teammate, "alerts.tenure_review").exists()
