from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from django.db import transaction
from django.http import Http404

from backend.audit import services as audit
from backend.consent.models import NEEDS_RECORD, Choice, ConsentChange, ConsentState, Notice, WelfareExclusion
from backend.consent.selectors import excludable_officers, notice_current
from backend.organisation.models import Person


class ChoiceError(Exception):
    """A request about choices that cannot be carried out as asked; the message says why and what to do."""

    code = "choice_invalid"
    status = 400


class ChoiceOrderError(ChoiceError):
    code = "choice_order"


class StaleNoticeError(ChoiceError):
    code = "notice_stale"
    status = 409

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class NothingToWithdrawError(ChoiceError):
    code = "choice_not_given"
    status = 409


class AlreadyGivenError(ChoiceError):
    code = "choice_already_given"
    status = 409


@dataclass
class ChoiceOutcome:
    changes: list[ConsentChange] = field(default_factory=list)
    erasure_offered: bool = False


def _field(choice: str) -> str:
    return choice.replace("-", "_")


@transaction.atomic
def choice_set(
    *,
    person: Person,
    choice: str,
    given: bool,
    channel: str,
    now: datetime,
    notice_version: int | None = None,
    request_id: str = "",
) -> ChoiceOutcome:
    """Gives or withdraws one choice. Withdrawing `record` withdraws the choices that need it, too."""
    if choice not in Choice.values:
        raise ChoiceError(f"Unknown choice {choice!r}; the choices are {', '.join(Choice.values)}.")
    notice = notice_current()
    if notice is None:
        raise ChoiceError("No privacy notice has been published yet; an administrator must publish one first.")
    state, _ = ConsentState.objects.select_for_update().get_or_create(person=person)
    current = bool(getattr(state, _field(choice)))
    if given:
        if notice_version != notice.version:
            raise StaleNoticeError(
                f"The notice has changed: read version {notice.version} and give your choice against it.",
                current_version=notice.version,
            )
        if current:
            raise AlreadyGivenError(f"You have already chosen {choice!r}.")
        if choice in NEEDS_RECORD and not state.record:
            raise ChoiceOrderError(f"{choice!r} works on your kept record, so choose 'record' first, then {choice!r}.")
        to_change = [choice]
    else:
        if not current:
            raise NothingToWithdrawError(f"You have not chosen {choice!r}, so there is nothing to withdraw.")
        to_change = [choice]
        if choice == Choice.RECORD:
            to_change = [c for c in NEEDS_RECORD if getattr(state, _field(c))] + [choice]
    outcome = ChoiceOutcome(erasure_offered=(choice == Choice.RECORD and not given))
    for name in to_change:
        setattr(state, _field(name), given)
        outcome.changes.append(
            ConsentChange.objects.create(
                person=person,
                choice=name,
                given=given,
                notice_version=notice.version,
                notice_hash=notice.text_hash,
                channel=channel,
                at=now,
            )
        )
        audit.record(
            f"consent.choice.{'given' if given else 'withdrawn'}",
            actor=person,
            subject=person,
            object_ref=name,
            request_id=request_id,
            now=now,
        )
    state.updated_at = now
    state.save()
    return outcome


@transaction.atomic
def exclusion_add(*, person: Person, officer: Person, now: datetime, request_id: str = "") -> WelfareExclusion:
    if not excludable_officers(person, on=now.date()).filter(pk=officer.pk).exists():
        raise ChoiceError("You can exclude only welfare officers who cover your unit, or the welfare lead.")
    exclusion, created = WelfareExclusion.objects.get_or_create(
        person=person, officer=officer, defaults={"created_at": now}
    )
    if created:
        audit.record(
            "consent.exclusion.added",
            actor=person,
            subject=person,
            object_ref=str(officer.public_id),
            request_id=request_id,
            now=now,
        )
    return exclusion


@transaction.atomic
def exclusion_remove(*, exclusion: WelfareExclusion, now: datetime, request_id: str = "") -> None:
    audit.record(
        "consent.exclusion.removed",
        actor=exclusion.person,
        subject=exclusion.person,
        object_ref=str(exclusion.officer.public_id),
        request_id=request_id,
        now=now,
    )
    exclusion.delete()


@transaction.atomic
def notice_publish(*, text: str, now: datetime, actor: Person | None = None) -> Notice:
    latest = Notice.objects.select_for_update().order_by("-version").first()
    notice = Notice.objects.create(
        version=(latest.version + 1) if latest else 1, text=text, text_hash=Notice.hash_of(text), published_at=now
    )
    audit.record("consent.notice.published", actor=actor, object_ref=f"v{notice.version}", now=now)
    return notice


def refuse_foreign_exclusion(*, actor: Person, exclusion_id: str, request_id: str = "") -> NoReturn:
    """An attempt on someone else's exclusion: audited against its owner, answered as if absent."""
    exclusion = WelfareExclusion.objects.select_related("person").filter(public_id=exclusion_id).first()
    if exclusion is not None:
        audit.record(
            "consent.exclusion.refused",
            actor=actor,
            subject=exclusion.person,
            object_ref=str(exclusion_id),
            outcome="refused",
            request_id=request_id,
        )
    raise Http404
