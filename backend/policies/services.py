from datetime import datetime
from typing import Any

from django.db import transaction

from backend.audit import services as audit
from backend.common.errors import NotPermitted
from backend.organisation.models import Person, Role, Unit
from backend.organisation.selectors import role_names_of
from backend.policies.models import Policy
from backend.policies.selectors import policy_for_unit

EDITABLE = [
    "limit_basis",
    "daily_limit",
    "weekly_limit",
    "early_warning_percent",
    "heavy_days",
    "break_reminder_minutes",
    "follow_up_on_unexpected",
    "follow_up_on_live",
    "follow_up_on_got_to_me",
    "follow_up_on_team_incident",
    "follow_up_first_hours",
    "follow_up_second_days",
    "screening_months_exposed",
    "screening_months_other",
    "screening_reminder_days",
    "screening_alert_days",
    "tenure_review_years",
]


class PolicyRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _check(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not 1 <= values["early_warning_percent"] <= 100:
        errors["early_warning_percent"] = ["The early warning is a percentage of the limit: 1 to 100."]
    if values["daily_limit"] <= 0:
        errors["daily_limit"] = ["The daily limit must be above zero."]
    if values["weekly_limit"] < values["daily_limit"]:
        errors["weekly_limit"] = ["The weekly limit cannot be below the daily limit."]
    if values["screening_alert_days"] <= values["screening_reminder_days"]:
        errors["screening_alert_days"] = ["The overdue alert must come after the overdue reminder."]
    if values["heavy_days"] < 2:
        errors["heavy_days"] = ["Heavy days counts consecutive days: 2 or more."]
    return errors


@transaction.atomic
def policy_set(*, unit: Unit, changes: dict[str, Any], actor: Person, now: datetime) -> Policy:
    """Writes a new version of the unit's policy: the current values with ``changes`` applied. Welfare leads
    and administrators only."""
    if not role_names_of(actor) & {Role.WELFARE_LEAD, Role.ADMINISTRATOR}:
        raise NotPermitted("Policies are set by the welfare lead or an administrator.")
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    current = policy_for_unit(unit)
    values = {name: getattr(current, name) for name in EDITABLE}
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise PolicyRejected({name: ["Not a policy setting."] for name in unknown})
    if not changes:
        raise PolicyRejected({"non_field_errors": ["Nothing to change: send the settings to change."]})
    values.update(changes)
    errors = _check(values)
    if errors:
        raise PolicyRejected(errors)
    policy = Policy.objects.create(
        unit=unit, version=current.version + 1, created_at=now, created_by_id=actor.public_id, **values
    )
    audit.record("policies.policy.changed", actor=actor, object_ref=f"{unit.public_id}:v{policy.version}", now=now)
    return policy
