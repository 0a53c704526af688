from datetime import datetime, timedelta

from django.db import transaction

from backend.alerts.models import Notification, NotificationKind
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


SWEEP_BATCH = 5000


def check_ins_notify_due(*, now: datetime) -> int:
    """Swept by beat, set-based: one notification per check-in that has fallen due, written with the
    marking in one transaction per batch (a repeat run finds nothing left); closes spent follow-ups."""
    notified = 0
    while True:
        with transaction.atomic():
            due = list(
                DueCheckIn.objects.select_for_update(skip_locked=True)
                .filter(notified_at__isnull=True, due_at__lte=now, completed_at__isnull=True)
                .order_by("due_at")
                .values_list("pk", "public_id", "person_id")[:SWEEP_BATCH]
            )
            if not due:
                break
            Notification.objects.bulk_create(
                [
                    Notification(
                        recipient_id=person_id,
                        kind=NotificationKind.CHECKIN,
                        title="Time for your check-in",
                        body="How are you doing? A short check-in is waiting for you.",
                        link="/checkins/",
                        dedup_key=f"checkin:{public_id}:due",
                        created_at=now,
                    )
                    for _, public_id, person_id in due
                ],
                ignore_conflicts=True,
            )
            DueCheckIn.objects.filter(pk__in=[pk for pk, _, _ in due]).update(notified_at=now)
            notified += len(due)
    FollowUp.objects.filter(
        closed_at__isnull=True,
        check_ins__kind=CheckInKind.FOLLOW_UP_28D,
        check_ins__due_at__lt=now - FOLLOW_UP_GRACE,
    ).update(closed_at=now)
    return notified
