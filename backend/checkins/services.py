from datetime import datetime, timedelta

from django.db import transaction

from backend.alerts.models import NotificationKind
from backend.alerts.services import notify
from backend.checkins.models import CheckInKind, DueCheckIn, FollowUp
from backend.organisation.models import Person

FOLLOW_UP_GRACE = timedelta(days=14)  # after the 28-day check-in falls due, the follow-up closes


@transaction.atomic
def follow_up_trigger(
    *, person: Person, trigger: str, now: datetime, first_after: timedelta, second_after: timedelta
) -> tuple[FollowUp, bool]:
    """Opens the person's follow-up with check-ins booked as due rows, or joins the open one."""
    follow_up = FollowUp.objects.select_for_update().filter(person=person, closed_at__isnull=True).first()
    if follow_up is not None:
        if trigger not in follow_up.triggers:
            follow_up.triggers = [*follow_up.triggers, trigger]
            follow_up.save(update_fields=["triggers"])
        return follow_up, False
    follow_up = FollowUp.objects.create(person=person, opened_at=now, triggers=[trigger])
    DueCheckIn.objects.bulk_create(
        [
            DueCheckIn(person=person, follow_up=follow_up, kind=CheckInKind.FOLLOW_UP_72H, due_at=now + first_after),
            DueCheckIn(person=person, follow_up=follow_up, kind=CheckInKind.FOLLOW_UP_28D, due_at=now + second_after),
        ]
    )
    return follow_up, True


def check_ins_notify_due(*, now: datetime) -> int:
    """Swept by beat: tells each person whose check-in has fallen due, once; closes spent follow-ups."""
    notified = 0
    due = DueCheckIn.objects.filter(notified_at__isnull=True, due_at__lte=now, completed_at__isnull=True)
    for check_in in due.select_related("person").order_by("due_at")[:5000]:
        with transaction.atomic():
            if DueCheckIn.objects.filter(pk=check_in.pk, notified_at__isnull=True).update(notified_at=now) == 0:
                continue  # another sweep got there first
            notify(
                recipient=check_in.person,
                kind=NotificationKind.CHECKIN,
                title="Time for your check-in",
                body="How are you doing? A short check-in is waiting for you.",
                link="/checkins/",
                dedup_key=f"checkin:{check_in.public_id}:due",
                now=now,
            )
            notified += 1
    FollowUp.objects.filter(
        closed_at__isnull=True,
        check_ins__kind=CheckInKind.FOLLOW_UP_28D,
        check_ins__due_at__lt=now - FOLLOW_UP_GRACE,
    ).update(closed_at=now)
    return notified
