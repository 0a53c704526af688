import uuid

from django.db import models
from django.db.models import F, Q

from backend.organisation.models import Person, Team, Unit

MAX_SECONDS = 16 * 3600  # no session, and no day, may hold more than 16 hours


class MediaType(models.TextChoices):
    STILL = "still", "Still images"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"
    TEXT = "text", "Text or chat"
    LIVE = "live", "Live stream"


class Safeguard(models.TextChoices):
    GREYSCALE = "greyscale", "Greyscale"
    BLUR = "blur", "Blur"
    MUTED = "muted", "Muted"


class RecordKind(models.TextChoices):
    SESSION = "session", "Timed session"
    DAY = "day", "Day entry"


class Source(models.TextChoices):
    WEB = "web", "Web page"
    API = "api", "API"
    TOKEN = "token", "Review tool"
    TIMER = "timer", "Timer"
    IMPORT = "import", "CSV import"
    SEED = "seed", "Demo seed"


class SeverityCategory(models.Model):
    """The organisation's severity taxonomy (default CAID A, B, C and "other distressing")."""

    code = models.CharField(max_length=16, unique=True)
    label = models.CharField(max_length=100)
    weight_milli = models.PositiveIntegerField(help_text="Weight in thousandths: 2000 means ×2.")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name_plural = "severity categories"

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"


class Weights(models.Model):
    """The organisation's weighting policy. Provisional defaults; review with occupational health."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    still_milli = models.PositiveIntegerField(default=1000)
    video_milli = models.PositiveIntegerField(default=1500)
    audio_milli = models.PositiveIntegerField(default=1500)
    text_milli = models.PositiveIntegerField(default=800)
    live_milli = models.PositiveIntegerField(default=2000)
    audio_on_milli = models.PositiveIntegerField(default=1500, help_text="Applied to video and live with audio on.")
    unexpected_milli = models.PositiveIntegerField(default=1500)

    class Meta:
        verbose_name_plural = "weights"
        constraints = [models.CheckConstraint(condition=Q(singleton=True), name="weights_singleton")]

    def __str__(self) -> str:
        return f"weights v{self.version}"

    def media_milli(self, media_type: str) -> int:
        return int(getattr(self, f"{media_type}_milli"))


class ExposureRecord(models.Model):
    """A timed session (start and end) or a day entry (date and minutes). No case references, no free text."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # (person, local_date) and (person, started_at) serve every lookup; single-column foreign-key indexes
    # would only slow each write and the CSV import down.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="exposure_records", db_index=False)
    kind = models.CharField(max_length=8, choices=RecordKind.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    local_date = models.DateField(help_text="The organisation's local day the record counts on.")
    week_start = models.DateField()
    month_start = models.DateField()
    quarter_start = models.DateField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    seconds = models.PositiveIntegerField()
    media_type = models.CharField(max_length=8, choices=MediaType.choices)
    severity = models.CharField(max_length=16)
    audio = models.BooleanField(default=False)
    unexpected = models.BooleanField(default=False)
    got_to_me = models.BooleanField(default=False)
    safeguards = models.JSONField(default=list)
    items = models.PositiveIntegerField(null=True, blank=True)
    dose_milli = models.BigIntegerField(help_text="Weighted exposure in thousandths of a weighted minute.")
    weights_version = models.PositiveIntegerField()
    source = models.CharField(max_length=8, choices=Source.choices)
    needs_confirmation = models.BooleanField(
        default=False, help_text="Closed by Keel at 16 hours; the person confirms."
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["person", "local_date"]),
            models.Index(fields=["person", "started_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seconds__gt=0, seconds__lte=MAX_SECONDS), name="record_seconds_range"),
            models.CheckConstraint(
                condition=(
                    Q(kind=RecordKind.SESSION, started_at__isnull=False, ended_at__gt=F("started_at"))
                    | Q(kind=RecordKind.DAY, started_at__isnull=True, ended_at__isnull=True)
                ),
                name="record_kind_shape",
            ),
            models.CheckConstraint(condition=Q(dose_milli__gte=0), name="record_dose_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.local_date} {self.seconds}s {self.media_type}/{self.severity}"

    @property
    def minutes(self) -> float:
        return round(self.seconds / 60, 2)


class DayRollup(models.Model):
    """Person × local day × media × severity totals, exact, kept in the same transaction as every write."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, on_delete=models.SET_NULL, related_name="+")
    day = models.DateField()
    media_type = models.CharField(max_length=8)
    severity = models.CharField(max_length=16)
    seconds = models.BigIntegerField(default=0)
    dose_milli = models.BigIntegerField(default=0)
    records = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "day", "media_type", "severity", "team"],
                name="day_rollup_unique_team",
                condition=Q(team__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["person", "day", "media_type", "severity"],
                name="day_rollup_unique_no_team",
                condition=Q(team__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["team", "day"]), models.Index(fields=["unit", "day"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.day} {self.media_type}/{self.severity}"


class Period(models.TextChoices):
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class PeriodRollup(models.Model):
    """Person × team × week/month/quarter × media × severity totals: counting rows with records > 0 per
    reported cell gives the exact number of distinct people, which daily counts cannot."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, on_delete=models.SET_NULL, related_name="+")
    period = models.CharField(max_length=8, choices=Period.choices)
    period_start = models.DateField()
    media_type = models.CharField(max_length=8)
    severity = models.CharField(max_length=16)
    seconds = models.BigIntegerField(default=0)
    dose_milli = models.BigIntegerField(default=0)
    records = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "period_start", "media_type", "severity", "team"],
                name="period_rollup_unique_team",
                condition=Q(team__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["person", "period", "period_start", "media_type", "severity"],
                name="period_rollup_unique_no_team",
                condition=Q(team__isnull=True),
            ),
        ]
        indexes = [
            models.Index(fields=["period", "period_start", "team"]),
            models.Index(fields=["period", "period_start", "unit"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period} {self.period_start}"


class Timer(models.Model):
    """The optional live timer, kept on the server so a session timeout does not lose it."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="exposure_timer")
    media_type = models.CharField(max_length=8, choices=MediaType.choices)
    severity = models.CharField(max_length=16)
    audio = models.BooleanField(default=False)
    unexpected = models.BooleanField(default=False)
    got_to_me = models.BooleanField(default=False)
    safeguards = models.JSONField(default=list)
    items = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"timer of {self.person_id}"


class Preference(models.Model):
    """The person's own logging preferences."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="exposure_preference")
    break_reminders = models.BooleanField(default=False)
    break_after_minutes = models.PositiveSmallIntegerField(default=50)

    def __str__(self) -> str:
        return f"preferences of {self.person_id}"


class IdempotencyKey(models.Model):
    """The first result of a request sent with an Idempotency-Key, so a repeat stores nothing new."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.key}"


# CSV import ------------------------------------------------------------------------------------------
# Appended for the CSV import (backend/exposure/imports.py); see docs/import.md.


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"
    DONE = "done", "Done"


class ImportPhase(models.TextChoices):
    READING = "reading", "Reading the file"
    CHECKING = "checking", "Checking and storing"


class ImportJob(models.Model):
    """One CSV import and its progress. Its counts are committed outside the import's own transaction, so
    a page polling it sees them move while the import runs. Errors name a line and a field, never a value
    from the file, and the client's file name is not kept."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.IMPORT)
    state = models.CharField(max_length=8, choices=ImportState.choices, default=ImportState.QUEUED)
    phase = models.CharField(max_length=8, choices=ImportPhase.choices, default=ImportPhase.READING)
    total_rows = models.PositiveIntegerField(null=True, blank=True, help_text="Estimated until reading ends.")
    processed_rows = models.PositiveIntegerField(default=0)
    stored_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, help_text="The first problems: line, field and message.")
    attempts = models.PositiveSmallIntegerField(default=0)
    run = models.BigIntegerField(null=True, blank=True, help_text="The staging rows of the current attempt.")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "created_at"])]

    def __str__(self) -> str:
        return f"import {self.public_id} {self.state}"


class ImportStagingRow(models.Model):
    """A row of an import in flight, as read from the file and parsed but not yet judged: the checks run in
    SQL over all rows at once. Deleted when the import ends; unlogged on PostgreSQL (transient data)."""

    pk = models.CompositePrimaryKey("run", "line")  # one index serves every query, and no sequence to feed
    run = models.BigIntegerField()
    line = models.PositiveIntegerField()
    flags = models.IntegerField(default=0, help_text="Bits for values present in the file but unreadable.")
    kind = models.TextField()
    started_at = models.DateTimeField(null=True)
    ended_at = models.DateTimeField(null=True)
    day = models.DateField(null=True, help_text="The date column of a day entry.")
    minutes = models.IntegerField(null=True)
    local_date = models.DateField(null=True)
    week_start = models.DateField(null=True)
    month_start = models.DateField(null=True)
    quarter_start = models.DateField(null=True)
    seconds = models.BigIntegerField(null=True)
    media_type = models.TextField()
    severity = models.TextField()
    audio = models.BooleanField(null=True)
    unexpected = models.BooleanField(null=True)
    got_to_me = models.BooleanField(null=True)
    safeguards = models.TextField(help_text="JSON list of the named safeguards, sorted, as in the record.")
    items = models.IntegerField(null=True)
    dose_milli = models.BigIntegerField(default=0)
    team_id = models.BigIntegerField(null=True)
    unit_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"staged line {self.line} of run {self.run}"
