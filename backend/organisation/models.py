import uuid
from datetime import date, time

from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    INVESTIGATOR = "investigator", "Investigator"
    WELFARE_OFFICER = "welfare_officer", "Welfare officer"
    CLINICIAN = "clinician", "Clinician"
    WELFARE_LEAD = "welfare_lead", "Welfare lead"
    MANAGER = "manager", "Manager"
    DPO = "dpo", "Data protection officer"
    ADMINISTRATOR = "administrator", "Administrator"


# Where each role applies: units covered or served, teams managed, or the whole organisation.
UNIT_SCOPED_ROLES = (Role.CLINICIAN.value, Role.WELFARE_OFFICER.value)
TEAM_SCOPED_ROLES = (Role.MANAGER.value,)
MIN_GROUP_SIZE = 5


class Organisation(models.Model):
    """The one organisation this database serves (one organisation per database)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="Europe/London")
    holiday_region = models.CharField(
        max_length=16, default="GB-ENG", help_text="Country and optional subdivision, e.g. GB-ENG or GB-SCT."
    )
    covered_from = models.TimeField(default=time(8, 0), help_text="Start of covered hours, local time.")
    covered_until = models.TimeField(default=time(18, 0), help_text="End of covered hours, local time.")
    covered_weekdays = models.CharField(
        max_length=13,
        default="0,1,2,3,4",
        help_text="Covered days, 0 = Monday … 6 = Sunday, comma separated.",
    )
    min_group_size = models.PositiveSmallIntegerField(
        default=MIN_GROUP_SIZE,
        validators=[MinValueValidator(MIN_GROUP_SIZE)],
        help_text="k: the fewest distinct people any aggregate may describe (5 or more).",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="organisation_is_singleton"),
            models.CheckConstraint(condition=Q(min_group_size__gte=MIN_GROUP_SIZE), name="organisation_k_at_least_5"),
            models.CheckConstraint(
                condition=Q(covered_from__lt=models.F("covered_until")),
                name="organisation_covered_hours_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StaffType(models.TextChoices):
    OFFICER = "officer", "Police officer"
    CIVILIAN = "civilian", "Civilian staff"
    CONTRACTOR = "contractor", "Contractor"


class Person(AbstractUser):
    """Everyone who signs in: investigators, welfare staff, managers, administrators."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=150, blank=True)
    staff_type = models.CharField(max_length=16, choices=StaffType.choices, default=StaffType.OFFICER)
    employing_organisation = models.CharField(
        max_length=200,
        blank=True,
        help_text="For secondees: the organisation that employs them, beside the host.",
    )

    class Meta:
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Unit(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    exposed_role = models.BooleanField(default=True, help_text="Staff here view distressing material as their job.")
    highest_risk = models.BooleanField(default=False)
    backup_welfare_officer = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="backup_for_units"
    )

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="team_name_unique_in_unit")]

    def __str__(self) -> str:
        return f"{self.unit.name} / {self.name}"


class Membership(models.Model):
    """A person's time in a team. Tenure in exposed roles is summed from these."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="membership_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["person", "team"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_open_per_team",
            ),
        ]
        indexes = [models.Index(fields=["team", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.person} in {self.team}"

    def is_current(self, on: date) -> bool:
        return self.started_on <= on and (self.ended_on is None or self.ended_on >= on)


class RoleAssignment(models.Model):
    """A role held by a person, scoped to units (welfare officer, clinician), teams (manager) or all."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=UNIT_SCOPED_ROLES, unit__isnull=False, team__isnull=True)
                    | Q(role__in=TEAM_SCOPED_ROLES, team__isnull=False, unit__isnull=True)
                    | (~Q(role__in=UNIT_SCOPED_ROLES + TEAM_SCOPED_ROLES) & Q(unit__isnull=True, team__isnull=True))
                ),
                name="role_assignment_scope_matches_role",
            ),
            models.UniqueConstraint(
                fields=["person", "role", "unit"],
                name="role_unique_per_unit",
                condition=Q(unit__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["person", "role", "team"],
                name="role_unique_per_team",
                condition=Q(team__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["person", "role"],
                name="role_unique_organisation_wide",
                condition=Q(unit__isnull=True, team__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        scope = self.unit or self.team or "organisation"
        return f"{self.person}: {self.get_role_display()} ({scope})"


class TokenScope(models.TextChoices):
    EXPOSURE_WRITE = "exposure:write", "Write exposure records for the token's owner"
    PROFILE_READ = "profile:read", "Read the owner's name and roles (to check a token works)"


class ApiToken(models.Model):
    """A personal API token for a machine client. Only a hash of the key is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="api_token_expires_after_created"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
