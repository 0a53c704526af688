"""Synthetic organisations for the demo and benchmarks: deterministic for a seed, bounded memory.

Bulk inserts in batches; nothing here is a second way to do what a service does for real users,
it only lays down starting data at a scale services were not built to write one row at a time.
"""

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from backend.consent.models import Channel, Choice, ConsentChange, ConsentState, Notice
from backend.exposure.seed import seed_exposure as _seed_exposure
from backend.organisation.models import (
    Membership,
    Organisation,
    Person,
    Role,
    RoleAssignment,
    StaffType,
    Team,
    Unit,
)

BATCH = 2000
UNUSABLE_HASH = "!seeded-account-without-a-password"  # Django treats a "!" hash as unusable
UNUSABLE_PASSWORD = UNUSABLE_HASH

UNIT_BLUEPRINTS = [
    ("Image Assessment Hub", True, True, ["Grading A", "Grading B", "Victim Identification"]),
    ("Online Child Sexual Exploitation Team", True, True, ["Proactive", "Referrals", "Safeguarding Liaison"]),
    ("Digital Forensics Unit", True, False, ["Device Examination", "Cloud and Network"]),
    ("Major Crime Review", False, False, ["Case Review"]),
]
FIRST = [
    "Alex",
    "Sam",
    "Jordan",
    "Priya",
    "Tom",
    "Aisha",
    "Chris",
    "Megan",
    "Olu",
    "Hannah",
    "Dev",
    "Ruth",
    "Marek",
    "Sian",
    "Kwame",
    "Laura",
    "Imran",
    "Beth",
    "Callum",
    "Niamh",
    "Yusuf",
    "Grace",
    "Owen",
    "Leah",
]
LAST = [
    "Ahmed",
    "Baker",
    "Clarke",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nowak",
    "Owusu",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Walsh",
    "Young",
]
SECONDING = ["Regional Organised Crime Unit", "National Crime Agency", "Neighbouring Constabulary"]

PERSONAS = {
    "demo-investigator": ("Dana Investigator", [Role.INVESTIGATOR]),
    "demo-private": ("Pat Private", [Role.INVESTIGATOR]),
    "demo-welfare": ("Wendy Welfare", [Role.WELFARE_OFFICER]),
    "demo-clinician": ("Dr Colin Clinician", [Role.CLINICIAN]),
    "demo-lead": ("Lee Lead", [Role.WELFARE_LEAD]),
    "demo-manager": ("Morgan Manager", [Role.MANAGER, Role.INVESTIGATOR]),
    "demo-dpo": ("Devi DPO", [Role.DPO]),
    "demo-admin": ("Ash Admin", [Role.ADMINISTRATOR]),
}


@dataclass
class SeedResult:
    records: int
    people: int
    units: int
    teams: int
    memberships: int
    roles: int


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _batched(items: Iterator[Person], size: int = BATCH) -> Iterator[list[Person]]:
    batch: list[Person] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _teams_needed(people: int) -> int:
    return max(8, people // 9)


@transaction.atomic
def seed_organisation(
    *,
    people: int,
    days: int,
    seed: int,
    today: date,
    password: str,
    progress: Callable[[int], object] = lambda n: None,
    progress_records: Callable[[int], object] = lambda n: None,
) -> SeedResult:
    if people < len(PERSONAS) + 20:
        raise ValueError(f"Seed at least {len(PERSONAS) + 20} people so every team has enough members.")
    if Person.objects.exists():
        raise ValueError("This database already holds people; seed an empty database.")
    rng = random.Random(seed)

    org = Organisation.objects.first() or Organisation()
    org.name = "Northshire Police (demo)"
    org.save()

    units: list[Unit] = []
    teams: list[Team] = []
    team_target = _teams_needed(people)
    for name, exposed, highest, _ in UNIT_BLUEPRINTS:
        units.append(Unit.objects.create(public_id=_uuid(rng), name=name, exposed_role=exposed, highest_risk=highest))
    round_no = 0
    while len(teams) < team_target:
        for unit, (_, _, _, names) in zip(units, UNIT_BLUEPRINTS, strict=True):
            for team_name in names:
                if len(teams) < team_target:
                    label = team_name if round_no == 0 else f"{team_name} {round_no + 1}"
                    teams.append(Team(public_id=_uuid(rng), unit=unit, name=label))
        round_no += 1
    Team.objects.bulk_create(teams, batch_size=BATCH)
    exposed_teams = [t for t in teams if t.unit.exposed_role]

    demo_hash = make_password(password)
    persona_people = [
        Person(
            public_id=_uuid(rng),
            username=username,
            display_name=display,
            password=demo_hash,
            first_name=display.split()[-2],
            last_name=display.split()[-1],
            staff_type=StaffType.OFFICER,
        )
        for username, (display, _) in PERSONAS.items()
    ]
    Person.objects.bulk_create(persona_people)
    personas = {p.username: p for p in persona_people}
    progress(len(persona_people))

    def generated() -> Iterator[Person]:
        for index in range(people - len(PERSONAS)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            roll = rng.random()
            staff = StaffType.OFFICER if roll < 0.62 else StaffType.CIVILIAN if roll < 0.94 else StaffType.CONTRACTOR
            yield Person(
                public_id=_uuid(rng),
                username=f"person{index + 1:05d}",
                display_name=f"{first} {last}",
                first_name=first,
                last_name=last,
                staff_type=staff,
                password=UNUSABLE_PASSWORD,
                employing_organisation=rng.choice(SECONDING) if rng.random() < 0.06 else "",
            )

    memberships = 0
    roles = 0
    home_team = exposed_teams[0]
    first_unit = home_team.unit
    # Persona memberships and roles.
    persona_memberships = [
        Membership(public_id=_uuid(rng), person=personas[u], team=home_team, started_on=today - timedelta(days=d))
        for u, d in (("demo-investigator", 800), ("demo-private", 420), ("demo-manager", 1300))
    ]
    Membership.objects.bulk_create(persona_memberships)
    memberships += len(persona_memberships)
    persona_roles = []
    for username, (_, held) in PERSONAS.items():
        for role in held:
            if role == Role.WELFARE_OFFICER:
                persona_roles += [
                    RoleAssignment(public_id=_uuid(rng), person=personas[username], role=role, unit=first_unit)
                ]
            elif role == Role.CLINICIAN:
                persona_roles += [
                    RoleAssignment(public_id=_uuid(rng), person=personas[username], role=role, unit=u) for u in units
                ]
            elif role == Role.MANAGER:
                persona_roles += [
                    RoleAssignment(public_id=_uuid(rng), person=personas[username], role=role, team=home_team)
                ]
            else:
                persona_roles += [RoleAssignment(public_id=_uuid(rng), person=personas[username], role=role)]
    RoleAssignment.objects.bulk_create(persona_roles)
    roles += len(persona_roles)

    # Generated people: most are investigators in exposed teams; each team gets a manager, each
    # unit a welfare officer and a backup; a few leavers moved within the history window.
    managers_needed = {t.pk for t in teams if t.pk != home_team.pk}
    welfare_needed = [u for u in units if u.pk != first_unit.pk]
    backups_needed = list(units)
    for offset, batch in enumerate(_batched(generated())):
        Person.objects.bulk_create(batch)
        batch_memberships: list[Membership] = []
        batch_roles: list[RoleAssignment] = []
        for index, person in enumerate(batch):
            position = offset * BATCH + index
            team = teams[position % len(teams)]
            started = today - timedelta(days=rng.randint(30, 365 * 7))
            if days > 30 and rng.random() < 0.05:
                moved_on = today - timedelta(days=rng.randint(1, days))
                if moved_on > started:
                    batch_memberships.append(
                        Membership(
                            public_id=_uuid(rng),
                            person=person,
                            team=team,
                            started_on=started,
                            ended_on=moved_on,
                        )
                    )
                    team = rng.choice(teams)
                    started = moved_on + timedelta(days=1)
            batch_memberships.append(Membership(public_id=_uuid(rng), person=person, team=team, started_on=started))
            if team.pk in managers_needed:
                managers_needed.discard(team.pk)
                batch_roles.append(RoleAssignment(public_id=_uuid(rng), person=person, role=Role.MANAGER, team=team))
            if welfare_needed and position % 7 == 3:
                unit = welfare_needed.pop(0)
                batch_roles.append(
                    RoleAssignment(public_id=_uuid(rng), person=person, role=Role.WELFARE_OFFICER, unit=unit)
                )
                continue
            if backups_needed and position % 7 == 5:
                unit = backups_needed.pop(0)
                batch_roles.append(
                    RoleAssignment(public_id=_uuid(rng), person=person, role=Role.WELFARE_OFFICER, unit=unit)
                )
                Unit.objects.filter(pk=unit.pk).update(backup_welfare_officer=person)
                continue
            batch_roles.append(RoleAssignment(public_id=_uuid(rng), person=person, role=Role.INVESTIGATOR))
        Membership.objects.bulk_create(batch_memberships, batch_size=BATCH)
        RoleAssignment.objects.bulk_create(batch_roles, batch_size=BATCH)
        memberships += len(batch_memberships)
        roles += len(batch_roles)
        progress(len(batch))

    _seed_choices(rng, personas, now=datetime.combine(today, time(9, 0), tzinfo=UTC))
    records = _seed_exposure(rng, today=today, days=days, progress=progress_records)
    return SeedResult(
        records=records, people=people, units=len(units), teams=len(teams), memberships=memberships, roles=roles
    )


PERSONA_CHOICES = {
    "demo-investigator": (True, True, True),
    "demo-private": (True, False, False),
    "demo-manager": (True, False, False),
}


def _seed_choices(rng: random.Random, personas: dict[str, Person], *, now: datetime) -> None:
    """Most people keep a record; about half share with welfare; fewer turn on the rota signal."""
    notice = Notice.objects.order_by("-version").first()
    if notice is None:
        return
    for batch in _batched(Person.objects.order_by("pk").iterator(chunk_size=BATCH)):
        states, changes = [], []
        for person in batch:
            if person.username in PERSONA_CHOICES:
                record, welfare, rota = PERSONA_CHOICES[person.username]
            elif person.username.startswith("demo-"):
                record = welfare = rota = False
            else:
                record = rng.random() < 0.85
                welfare, rota = record and rng.random() < 0.55, record and rng.random() < 0.4
            states.append(ConsentState(person=person, record=record, welfare=welfare, rota_signal=rota, updated_at=now))
            for choice, given in ((Choice.RECORD, record), (Choice.WELFARE, welfare), (Choice.ROTA_SIGNAL, rota)):
                if given:
                    changes.append(
                        ConsentChange(
                            public_id=_uuid(rng),
                            person=person,
                            choice=choice,
                            given=True,
                            at=now,
                            channel=Channel.SEED,
                            notice_version=notice.version,
                            notice_hash=notice.text_hash,
                        )
                    )
        ConsentState.objects.bulk_create(states, batch_size=BATCH)
        ConsentChange.objects.bulk_create(changes, batch_size=BATCH)
