from django.db import models


class Heartbeat(models.Model):
    """The last time a long-running process showed it was alive ("beat", "worker")."""

    process = models.CharField(max_length=32, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.process} at {self.beat_at:%H:%M:%S}"
