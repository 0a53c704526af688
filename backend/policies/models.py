import uuid

from django.db import models
from django.db.models import F, Q

from backend.organisation.models import Unit

REVIEW_NOTE = "Shipped default: review with occupational health before go-live."


class LimitBasis(models.TextChoices):
    MINUTES = "minutes", "Minutes"
    DOSE = "dose", "Weighted exposure"


class Policy(models.Model):
    """One version of a unit's organisational limits (PRODUCT.md §3.4). Versions are never edited: a
    change is a new version, audited."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by_id = models.UUIDField(null=True, blank=True)

    limit_basis = models.CharField(max_length=8, choices=LimitBasis.choices, default=LimitBasis.MINUTES)
    daily_limit = models.PositiveIntegerField(
        default=240, help_text="Minutes, or weighted minutes when the basis is dose."
    )
    weekly_limit = models.PositiveIntegerField(default=900)
    early_warning_percent = models.PositiveSmallIntegerField(default=80)
    heavy_days = models.PositiveSmallIntegerField(default=3, help_text="Consecutive days over the early warning.")
    break_reminder_minutes = models.PositiveSmallIntegerField(default=50)
    follow_up_on_unexpected = models.BooleanField(default=True)
    follow_up_on_live = models.BooleanField(default=True)
    follow_up_on_got_to_me = models.BooleanField(default=True)
    follow_up_on_team_incident = models.BooleanField(default=True)
    follow_up_first_hours = models.PositiveSmallIntegerField(default=72)
    follow_up_second_days = models.PositiveSmallIntegerField(default=28)
    screening_months_exposed = models.PositiveSmallIntegerField(default=6)
    screening_months_other = models.PositiveSmallIntegerField(default=12)
    screening_reminder_days = models.PositiveSmallIntegerField(default=14)
    screening_alert_days = models.PositiveSmallIntegerField(default=30)
    tenure_review_years = models.PositiveSmallIntegerField(default=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "version"], name="policy_version_unique"),
            models.CheckConstraint(
                condition=Q(early_warning_percent__gte=1, early_warning_percent__lte=100),
                name="policy_warning_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(daily_limit__gt=0, weekly_limit__gte=F("daily_limit")), name="policy_limits_ordered"
            ),
            models.CheckConstraint(
                condition=Q(screening_alert_days__gt=F("screening_reminder_days")), name="policy_screening_escalates"
            ),
        ]
        ordering = ["unit", "-version"]

    def __str__(self) -> str:
        return f"{self.unit} policy v{self.version}"

    @property
    def is_default(self) -> bool:
        return self.pk is None
