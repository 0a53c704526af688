import uuid

import pgtrigger
from django.db import models


class AuditEntry(models.Model):
    """One append-only audit row. Plain ids, not foreign keys, so erasing a person never touches the log."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(db_index=True)
    actor_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="Public id of who acted.")
    actor_role = models.CharField(max_length=32, blank=True)
    subject_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="Public id of whose data.")
    action = models.CharField(max_length=100, help_text="<app>.<thing>.<verb>")
    object_ref = models.CharField(max_length=100, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, default="ok")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        # Append-only in the database itself (PostgreSQL), whatever the application does.
        triggers = [pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Withholding(models.Model):
    """The data protection officer's lawful decision to withhold an entry from a person's access log."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry_id = models.UUIDField(unique=True, help_text="Public id of the withheld audit entry.")
    ground = models.CharField(max_length=300, help_text="The legal ground and the request it relates to.")
    decided_by_id = models.UUIDField()
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"withholding of {self.entry_id}"
