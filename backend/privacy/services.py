"""Flows that reach every app's personal data at once, through the registry."""

from datetime import datetime

from django.db import transaction

from backend.audit import services as audit
from backend.consent.selectors import choices_of
from backend.organisation.models import Person
from backend.privacy.registry import registered


class ErasureRefused(Exception):
    pass


@transaction.atomic
def record_erase(*, person: Person, now: datetime, request_id: str = "") -> dict[str, int]:
    """Erases the person's individual record in one transaction, keeping open duty-of-care records."""
    Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise with the person's own writes
    if choices_of(person).record:
        raise ErasureRefused("Withdraw the 'record' choice first; while it is given Keel keeps your record.")
    counts = {spec.name: spec.erase(person, now) for spec in registered() if spec.erase is not None}
    summary = ",".join(f"{name}={count}" for name, count in counts.items())
    audit.record(
        "privacy.record.erased", actor=person, subject=person, object_ref=summary[:100], request_id=request_id, now=now
    )
    return counts
