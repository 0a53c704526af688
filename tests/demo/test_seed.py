from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from backend.organisation.models import Membership, Person, Role, RoleAssignment, StaffType, Team, Unit
from backend.organisation.selectors import current_memberships, teams_managed_by, units_scoped_for

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 1)
PERSONAS = [
    "demo-investigator",
    "demo-private",
    "demo-welfare",
    "demo-clinician",
    "demo-lead",
    "demo-manager",
    "demo-dpo",
    "demo-admin",
]


def seed(people=60, seed=1, days=30):  # type: ignore[no-untyped-def]
    call_command(
        "seed_demo",
        people=people,
        days=days,
        seed=seed,
        today=TODAY,
        no_progress=True,
        stdout=StringIO(),
        stderr=StringIO(),
    )


def snapshot():  # type: ignore[no-untyped-def]
    return (
        sorted(
            Person.objects.values_list("public_id", "username", "display_name", "staff_type", "employing_organisation")
        ),
        sorted(Membership.objects.values_list("person__username", "team__name", "started_on", "ended_on")),
        sorted(RoleAssignment.objects.values_list("person__username", "role", "unit__name", "team__name")),
    )


def test_seed_is_deterministic_for_a_seed():
    with transaction.atomic():
        seed()
        first = snapshot()
        transaction.set_rollback(True)
    seed()
    assert snapshot() == first
    other = snapshot()
    Person.objects.all().delete()
    Team.objects.all().delete()
    Unit.objects.all().delete()
    seed(seed=2)
    assert snapshot() != other


def test_seed_builds_a_realistic_organisation():
    seed()
    assert Person.objects.count() == 60
    assert Unit.objects.count() >= 3 and Team.objects.count() >= 8
    assert Unit.objects.filter(exposed_role=True).count() >= 3
    assert Unit.objects.filter(backup_welfare_officer__isnull=True).count() == 0
    staff = set(Person.objects.values_list("staff_type", flat=True))
    assert {StaffType.OFFICER, StaffType.CIVILIAN} <= staff
    assert Person.objects.exclude(employing_organisation="").exists() or Person.objects.count() < 100
    for team in Team.objects.all():
        assert RoleAssignment.objects.filter(role=Role.MANAGER, team=team).exists(), f"{team} has no manager"
    for unit in Unit.objects.all():
        assert RoleAssignment.objects.filter(role=Role.WELFARE_OFFICER, unit=unit).exists(), (
            f"{unit} has no welfare officer"
        )
    assert RoleAssignment.objects.filter(role=Role.INVESTIGATOR).count() >= 40


def test_demo_personas_have_the_promised_relationships():
    seed()
    people = {p.username: p for p in Person.objects.filter(username__in=PERSONAS)}
    assert set(people) == set(PERSONAS)
    assert all(p.has_usable_password() for p in people.values())
    assert not Person.objects.exclude(username__in=PERSONAS).filter(password__startswith="md5").exists()
    investigator_team = current_memberships(people["demo-investigator"], on=TODAY).get().team
    assert current_memberships(people["demo-private"], on=TODAY).get().team == investigator_team
    assert investigator_team in teams_managed_by(people["demo-manager"])
    assert investigator_team.unit in units_scoped_for(people["demo-welfare"], Role.WELFARE_OFFICER)
    assert investigator_team.unit in units_scoped_for(people["demo-clinician"], Role.CLINICIAN)
    for username, role in [
        ("demo-lead", Role.WELFARE_LEAD),
        ("demo-dpo", Role.DPO),
        ("demo-admin", Role.ADMINISTRATOR),
    ]:
        assert RoleAssignment.objects.filter(person=people[username], role=role).exists()


def test_seed_refuses_a_database_that_already_has_people():
    seed()
    with pytest.raises(CommandError, match="already holds people"):
        seed()


def test_seed_scales_in_batches():
    seed(people=4500, days=3)  # more than two insert batches
    assert Person.objects.count() == 4500
    assert Team.objects.count() == 500
    # everyone but the five personas who work outside teams (welfare, clinician, lead, DPO, administrator)
    assert Membership.objects.filter(ended_on__isnull=True).values("person").distinct().count() == 4500 - 5


def test_seeded_history_is_realistic_and_rollups_are_exact():
    from django.db.models import Sum

    from backend.exposure.models import DayRollup, ExposureRecord

    seed(days=60)
    records = ExposureRecord.objects.all()
    assert records.count() > 1000
    assert not any(d.weekday() >= 5 for d in records.values_list("local_date", flat=True).distinct())
    assert records.filter(got_to_me=True).exists() and records.filter(unexpected=True).exists()
    assert records.filter(kind="session").exists() and records.filter(kind="day").exists()
    private = Person.objects.get(username="demo-private")
    assert records.filter(person=private).exists()
    assert not records.filter(person__consent_state__record=False).exists(), "no history for people without `record`"
    assert DayRollup.objects.aggregate(s=Sum("seconds"))["s"] == records.aggregate(s=Sum("seconds"))["s"]
    per_day = records.values("person", "local_date").annotate(s=Sum("seconds"))
    assert max(row["s"] for row in per_day) <= 16 * 3600


def test_seeded_records_are_addressable_and_well_formed():
    from backend.exposure.models import ExposureRecord

    seed(days=10)
    record = ExposureRecord.objects.filter(safeguards__len__gt=0).first() or ExposureRecord.objects.first()
    assert ExposureRecord.objects.get(public_id=record.public_id) == record
    assert isinstance(record.safeguards, list)
