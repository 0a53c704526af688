"""Who handles an alert: never the person it is about, never someone they excluded."""

from datetime import datetime

from backend.alerts.models import OnCallShift
from backend.consent.selectors import exclusions_of
from backend.organisation.models import Membership, Person, Role, RoleAssignment, Unit


def units_of(person: Person, *, on: datetime) -> list[Unit]:
    day = on.date()
    memberships = (
        Membership.objects.filter(person=person, started_on__lte=day)
        .exclude(ended_on__lt=day)
        .select_related("team__unit")
    )
    return list({m.team.unit_id: m.team.unit for m in memberships.order_by("started_on", "pk")}.values())


def _eligible(candidate: Person | None, person: Person, excluded: set[int]) -> bool:
    return candidate is not None and candidate.is_active and candidate.pk != person.pk and candidate.pk not in excluded


def handler_for(person: Person, *, severity: str, now: datetime, units: list[Unit] | None = None) -> Person | None:
    """Urgent: the unit's on-call person first. Then a welfare officer covering the unit, the unit's backup
    welfare officer, and finally the welfare lead."""
    units = units if units is not None else units_of(person, on=now)
    excluded = set(exclusions_of(person).values_list("officer_id", flat=True))
    candidates: list[Person | None] = []
    if severity == "urgent":
        candidates += [
            s.person
            for s in OnCallShift.objects.filter(unit__in=units, starts_at__lte=now, ends_at__gt=now)
            .select_related("person")
            .order_by("starts_at", "pk")
        ]
    officers = RoleAssignment.objects.filter(role=Role.WELFARE_OFFICER, unit__in=units).select_related("person")
    candidates += [ra.person for ra in officers.order_by("pk")]
    candidates += [u.backup_welfare_officer for u in units]
    candidates += [
        ra.person
        for ra in RoleAssignment.objects.filter(role=Role.WELFARE_LEAD).select_related("person").order_by("pk")
    ]
    return next((c for c in candidates if _eligible(c, person, excluded)), None)


def escalation_target(person: Person, *, round_no: int, unit: Unit | None, current: Person | None) -> Person | None:
    """Round 1: the unit's backup welfare officer; rounds 2 and 3: the welfare lead."""
    excluded = set(exclusions_of(person).values_list("officer_id", flat=True))
    candidates: list[Person | None] = []
    if round_no == 1 and unit is not None:
        candidates.append(unit.backup_welfare_officer)
    candidates += [
        ra.person
        for ra in RoleAssignment.objects.filter(role=Role.WELFARE_LEAD).select_related("person").order_by("pk")
    ]
    eligible = [c for c in candidates if c is not None and _eligible(c, person, excluded)]
    return next((c for c in eligible if current is None or c.pk != current.pk), eligible[0] if eligible else None)
