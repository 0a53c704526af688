"""Reads of sharing choices, and the one place that decides whether welfare staff may open a record.

Nothing here is cached: a withdrawal takes effect on the very next request.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from backend.common.errors import NotPermitted
from backend.consent.models import Choice, ConsentChange, ConsentState, Notice, WelfareExclusion
from backend.organisation.models import Membership, Person, Role, RoleAssignment
from backend.organisation.selectors import has_role


@dataclass(frozen=True)
class Choices:
    record: bool = False
    welfare: bool = False
    rota_signal: bool = False

    def has(self, choice: str) -> bool:
        return bool(getattr(self, choice.replace("-", "_")))


def choices_of(person: Person) -> Choices:
    state = ConsentState.objects.filter(person=person).values("record", "welfare", "rota_signal").first()
    return Choices(**state) if state else Choices()


REQUIRED_EXPLANATION = {
    "record": "Keel keeps nothing about you because you have not chosen 'record'. To log exposure, choose "
    "'record' on My choices (/choices/) or with POST /api/v1/consents/.",
}


def require(person: Person, choice: str) -> None:
    """Raises NotPermitted, explaining how to choose, unless the person has given the choice."""
    if not choices_of(person).has(choice):
        raise NotPermitted(REQUIRED_EXPLANATION.get(choice, f"This needs your choice {choice!r}."))


def notice_current() -> Notice | None:
    return Notice.objects.order_by("-version").first()


def history_of(person: Person) -> QuerySet[ConsentChange]:
    return ConsentChange.objects.filter(person=person).order_by("-at", "-id")


def exclusions_of(person: Person) -> QuerySet[WelfareExclusion]:
    return WelfareExclusion.objects.filter(person=person).select_related("officer").order_by("created_at")


def excludable_officers(person: Person, *, on: date) -> QuerySet[Person]:
    """Welfare officers covering the person's units, and welfare leads: the people an exclusion can name."""
    units = Membership.objects.filter(person=person, started_on__lte=on).exclude(ended_on__lt=on).values("team__unit")
    officers = RoleAssignment.objects.filter(role=Role.WELFARE_OFFICER, unit__in=units).values("person")
    leads = RoleAssignment.objects.filter(role=Role.WELFARE_LEAD).values("person")
    return Person.objects.filter(pk__in=officers.union(leads)).exclude(pk=person.pk).order_by("display_name")


def _covers(viewer: Person, subject: Person, *, on: date) -> bool:
    subject_units = (
        Membership.objects.filter(person=subject, started_on__lte=on).exclude(ended_on__lt=on).values("team__unit")
    )
    return RoleAssignment.objects.filter(person=viewer, role=Role.WELFARE_OFFICER, unit__in=subject_units).exists()


def welfare_may_open(viewer: Person, subject: Person, *, on: date) -> bool:
    """A welfare officer covering the person's unit (or the welfare lead) who was chosen and not excluded."""
    if viewer.pk == subject.pk or not viewer.is_active:
        return False
    choices = choices_of(subject)
    if not (choices.record and choices.welfare):
        return False
    if WelfareExclusion.objects.filter(person=subject, officer=viewer).exists():
        return False
    return _covers(viewer, subject, on=on) or has_role(viewer, Role.WELFARE_LEAD)


def people_supported_by(viewer: Person, *, on: date) -> QuerySet[Person]:
    """The people a welfare officer (or lead) may open: chose `welfare`, in a covered unit, not excluding them."""
    sharing = ConsentState.objects.filter(record=True, welfare=True).values("person")
    people = Person.objects.filter(pk__in=sharing, is_active=True).exclude(pk=viewer.pk)
    people = people.exclude(welfare_exclusions__officer=viewer)
    if not has_role(viewer, Role.WELFARE_LEAD):
        units = RoleAssignment.objects.filter(person=viewer, role=Role.WELFARE_OFFICER).values("unit")
        current = Membership.objects.filter(team__unit__in=units, started_on__lte=on).exclude(ended_on__lt=on)
        people = people.filter(pk__in=current.values("person"))
    return people.order_by("display_name", "username")


__all__ = ["Choice", "Choices", "choices_of", "people_supported_by", "welfare_may_open"]
