from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

from backend.organisation.models import (
    ApiToken,
    Membership,
    Organisation,
    Person,
    Role,
    RoleAssignment,
    Team,
    Unit,
)


@dataclass(frozen=True)
class HeldRole:
    role: str
    label: str
    scope_kind: str  # "organisation", "unit" or "team"
    scope_id: str | None
    scope_name: str | None


def organisation_get() -> Organisation:
    org = Organisation.objects.first()
    return org if org is not None else Organisation(name="Keel")


def roles_of(person: Person) -> list[HeldRole]:
    held = []
    for ra in RoleAssignment.objects.filter(person=person).select_related("unit", "team__unit").order_by("role", "id"):
        scope = ra.unit or ra.team
        held.append(
            HeldRole(
                role=ra.role,
                label=Role(ra.role).label,
                scope_kind="unit" if ra.unit else "team" if ra.team else "organisation",
                scope_id=str(scope.public_id) if scope else None,
                scope_name=str(scope) if scope else None,
            )
        )
    return held


def role_names_of(person: Person) -> set[str]:
    return set(RoleAssignment.objects.filter(person=person).values_list("role", flat=True))


def has_role(person: Person, role: Role) -> bool:
    return RoleAssignment.objects.filter(person=person, role=role).exists()


def units_scoped_for(person: Person, role: Role) -> QuerySet[Unit]:
    """Units a welfare officer covers or a clinician serves."""
    return Unit.objects.filter(role_assignments__person=person, role_assignments__role=role).distinct()


def teams_managed_by(person: Person) -> QuerySet[Team]:
    return Team.objects.filter(role_assignments__person=person, role_assignments__role=Role.MANAGER).distinct()


def current_memberships(person: Person, *, on: date) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(person=person, started_on__lte=on)
        .exclude(ended_on__lt=on)
        .select_related("team__unit")
        .order_by("started_on")
    )


def team_headcount(team: Team, *, on: date) -> int:
    return (
        Membership.objects.filter(team=team, started_on__lte=on)
        .exclude(ended_on__lt=on)
        .values("person")
        .distinct()
        .count()
    )


def exposed_tenure(person: Person, *, on: date) -> timedelta:
    """Time spent in teams of exposed units up to ``on``; overlapping memberships count once."""
    spans = sorted(
        (m.started_on, min(m.ended_on or on, on))
        for m in Membership.objects.filter(person=person, team__unit__exposed_role=True, started_on__lte=on)
    )
    total = timedelta()
    cursor: date | None = None
    for start, end in spans:
        if cursor is not None and start <= cursor:
            start = cursor + timedelta(days=1)
        if end >= start:
            total += end - start + timedelta(days=1)
            cursor = end if cursor is None else max(cursor, end)
    return total


def tokens_of(person: Person) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(person=person).order_by("-created_at")
