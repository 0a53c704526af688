from django.db.models import QuerySet

from backend.checkins.models import DueCheckIn, FollowUp
from backend.organisation.models import Person


def open_follow_up(person: Person) -> FollowUp | None:
    return FollowUp.objects.filter(person=person, closed_at__isnull=True).first()


def check_ins_of(person: Person) -> QuerySet[DueCheckIn]:
    return DueCheckIn.objects.filter(person=person).order_by("due_at")
