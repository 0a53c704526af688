"""Rules over the alerting machinery's own data."""

from backend.alerts.engine import Rule, register

OUTBOX_DEAD = register(
    Rule(
        code="alerts.outbox_dead_letter",
        severity="high",
        title="A message could not be delivered after 5 tries",
        alerts_welfare=False,
    )
)
