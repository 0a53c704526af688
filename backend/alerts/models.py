import uuid

from django.db import models
from django.db.models import F, Q

from backend.organisation.models import Person, Unit


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
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"]), models.Index(fields=["state", "created_at"])]

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
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    outcome = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    ack_due_at = models.DateTimeField(null=True, blank=True, help_text="Acknowledge by, counted in covered hours.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalation_round = models.PositiveSmallIntegerField(default=0)
    breached = models.BooleanField(default=False, help_text="Not acknowledged in time.")
    raised_out_of_hours = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["assignee", "state"]),
            models.Index(fields=["person", "state"]),
            models.Index(fields=["state", "ack_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(assignee=F("person")), name="alert_never_assigned_to_its_subject"),
            models.CheckConstraint(condition=Q(escalation_round__lte=3), name="alert_escalates_at_most_3_rounds"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.severity}, {self.state})"


class Outcome(models.TextChoices):
    CONTACTED = "contacted", "Person contacted"
    CHECKIN_BOOKED = "checkin_booked", "Check-in booked"
    REFERRED = "referred", "Referred"
    SUPPORT_GIVEN = "support_given", "Support given"
    NO_ACTION = "no_action_needed", "No action needed"
    DECLINED = "declined", "Person declined contact"


class AlertEventKind(models.TextChoices):
    RAISED = "raised", "Raised"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ASSIGNED = "assigned", "Assigned"
    ESCALATED = "escalated", "Escalated"
    ACTION = "action", "Action taken"
    CLOSED = "closed", "Closed"


class AlertEvent(models.Model):
    """What happened to an alert, shown on it. No clinical notes: fixed kinds and outcomes only."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=AlertEventKind.choices)
    actor = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=32, blank=True, choices=Outcome.choices)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class NotificationKind(models.TextChoices):
    ALERT = "alert", "Alert to handle"
    NUDGE = "nudge", "Private nudge"
    CHECKIN = "checkin", "Check-in"
    INFO = "info", "Information"


class Notification(models.Model):
    """An in-app notification, written in the same transaction as its cause, exactly once per key."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=8, choices=NotificationKind.choices)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=200, blank=True)
    dedup_key = models.CharField(max_length=250, unique=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class OnCallShift(models.Model):
    """Who covers urgent alerts for a unit, and when (a simple on-call schedule)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="on_call_shifts")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="on_call_shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="on_call_ends_after_start")]
        indexes = [models.Index(fields=["unit", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.person} on call for {self.unit}"
