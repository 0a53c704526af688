import uuid

from django.db import models
from django.db.models import Q

from backend.organisation.models import Person


class FollowUp(models.Model):
    """A post-exposure follow-up (TRiM-informed, not TRiM): one open per person; new triggers join it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="follow_ups")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    triggers = models.JSONField(
        default=list, help_text="What started or joined it: unexpected, live, got_to_me, team_incident."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(closed_at__isnull=True), name="one_open_follow_up_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"follow-up of {self.person_id} from {self.opened_at:%Y-%m-%d}"


class CheckInKind(models.TextChoices):
    FOLLOW_UP_72H = "follow_up_72h", "72-hour follow-up"
    FOLLOW_UP_28D = "follow_up_28d", "28-day follow-up"
    LIMIT = "limit", "After a limit was passed"


class DueCheckIn(models.Model):
    """Work due in the future is a row with a due time, swept by beat — never a countdown task."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="due_check_ins")
    follow_up = models.ForeignKey(FollowUp, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins")
    kind = models.CharField(max_length=16, choices=CheckInKind.choices)
    due_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "kind"],
                condition=Q(follow_up__isnull=False),
                name="one_check_in_of_a_kind_per_follow_up",
            )
        ]
        indexes = [models.Index(fields=["notified_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.person_id} due {self.due_at:%Y-%m-%d %H:%M}"
