import uuid

from django.db import models

from backend.organisation.models import Person


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead-lettered"


class OutboxMessage(models.Model):
    """Something that must leave Keel (an email, a webhook call), written in the transaction that caused it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=32)
    dedup_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=OutboxState.choices, default=OutboxState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    leased_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id} ({self.state})"


class Severity(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ACTION_TAKEN = "action_taken", "Action taken"
    CLOSED = "closed", "Closed"


class Alert(models.Model):
    """A safety event for a human to act on. A duty-of-care record while it is not closed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rule = models.CharField(max_length=64)
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        help_text="Named only where the person's choices allow it.",
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    dedup_key = models.CharField(max_length=200, unique=True)
    assignee = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_alerts"
    )
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    outcome = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["assignee", "state"]), models.Index(fields=["person", "state"])]

    def __str__(self) -> str:
        return f"{self.rule} ({self.severity}, {self.state})"
