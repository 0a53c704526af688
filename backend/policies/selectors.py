from datetime import date

from django.db.models import QuerySet

from backend.organisation.models import Membership, Person, Unit
from backend.policies.models import Policy


def policy_for_unit(unit: Unit | None) -> Policy:
    """The unit's current policy, or the shipped defaults (unsaved, ``is_default``) when it has none."""
    if unit is not None:
        current = Policy.objects.filter(unit=unit).order_by("-version").first()
        if current is not None:
            return current
    return Policy(unit=unit, version=0)


def policy_for_person(person: Person, *, on: date) -> Policy:
    membership = (
        Membership.objects.filter(person=person, started_on__lte=on)
        .exclude(ended_on__lt=on)
        .select_related("team__unit")
        .order_by("started_on", "pk")
        .first()
    )
    return policy_for_unit(membership.team.unit if membership else None)


def policy_history(unit: Unit) -> QuerySet[Policy]:
    return Policy.objects.filter(unit=unit).order_by("-version")
