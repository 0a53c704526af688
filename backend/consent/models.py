import hashlib
import uuid

from django.db import models
from django.db.models import Q

from backend.organisation.models import Person


class Choice(models.TextChoices):
    RECORD = "record", "Keep my individual record"
    WELFARE = "welfare", "Share with the welfare officers covering my unit"
    ROTA_SIGNAL = "rota-signal", "Let rota planning flag blocks that conflict with my limits"


# Choices that only make sense while `record` is given.
NEEDS_RECORD = (Choice.WELFARE, Choice.ROTA_SIGNAL)


class Channel(models.TextChoices):
    WEB = "web", "Web page"
    API = "api", "API"
    SEED = "seed", "Demo seed"


class Notice(models.Model):
    """A version of the privacy notice. Versions are immutable: an edit is a new version."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    text_hash = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Notice v{self.version}"

    @staticmethod
    def hash_of(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()


class ConsentState(models.Model):
    """A person's current choices, changed only together with a ConsentChange row."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="consent_state")
    record = models.BooleanField(default=False)
    welfare = models.BooleanField(default=False)
    rota_signal = models.BooleanField(default=False)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(record=True) | (Q(welfare=False) & Q(rota_signal=False)), name="consent_needs_record"
            )
        ]

    def __str__(self) -> str:
        return f"choices of {self.person}"


class ConsentChange(models.Model):
    """The history: who, when (UTC), which notice version and text hash, which choice, which channel."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consent_changes")
    choice = models.CharField(max_length=16, choices=Choice.choices)
    given = models.BooleanField()
    notice_version = models.PositiveIntegerField()
    notice_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.person} {'gave' if self.given else 'withdrew'} {self.choice}"


class WelfareExclusion(models.Model):
    """A named welfare officer the person does not want to handle their alerts or open their record."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="welfare_exclusions")
    officer = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="excluded_by")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "officer"], name="exclusion_unique"),
            models.CheckConstraint(condition=~Q(person=models.F("officer")), name="exclusion_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.person} excludes {self.officer}"
