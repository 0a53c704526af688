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

TENURE_REVIEW = register(
    Rule(
        code="alerts.tenure_review",
        severity="normal",
        title="Rotation review due (tenure in an exposed role)",
        person_message="You have reached the time in an exposed role after which a rotation review is due. "
        "It is a conversation about your options, not a judgement.",
    )
)
