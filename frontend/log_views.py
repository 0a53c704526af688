"""The investigator's logging page: the end-of-shift form (works without JavaScript), the optional timer,
this week's minutes by kind of material, and the last week's records to change or delete.

Thin like the other pages: the form only parses, the exposure services decide what is valid.
"""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.common.errors import NotPermitted
from backend.common.middleware import request_id_of
from backend.consent.selectors import choices_of
from backend.exposure.models import ExposureRecord, MediaType, RecordKind, Safeguard, Source
from backend.exposure.periods import local_date
from backend.exposure.selectors import (
    organisation_tz,
    own_summary,
    preference_of,
    records_of,
    severities,
    usual_pattern,
)
from backend.exposure.services import (
    EDIT_WINDOW_DAYS,
    RecordInput,
    RecordRejected,
    exposure_record_create,
    exposure_record_delete,
    exposure_record_update,
)
from backend.organisation.models import Person

ATTRIBUTES = ("media_type", "severity", "audio", "unexpected", "got_to_me", "safeguards", "items")
WHOLE_NUMBER = "Enter a whole number."


class AttributesForm(forms.Form):
    """Parses only: the ranges and the taxonomy are the service's to check, so its words are the ones shown."""

    media_type = forms.CharField(max_length=8, error_messages={"required": "Choose the kind of material."})
    severity = forms.CharField(max_length=16, error_messages={"required": "Choose a severity."})
    audio = forms.BooleanField(required=False)
    unexpected = forms.BooleanField(required=False)
    got_to_me = forms.BooleanField(required=False)
    safeguards = forms.MultipleChoiceField(choices=Safeguard.choices, required=False)
    items = forms.IntegerField(required=False, error_messages={"invalid": WHOLE_NUMBER})


class DayEntryForm(AttributesForm):
    date = forms.DateField(error_messages={"required": "Enter the date.", "invalid": "Enter a date like 2026-11-02."})
    minutes = forms.IntegerField(error_messages={"required": "Enter the minutes.", "invalid": WHOLE_NUMBER})


def _today() -> date:
    return local_date(timezone.now(), organisation_tz())


def _reject_into(form: forms.Form, exc: RecordRejected) -> None:
    for name, texts in exc.errors.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)


def _values_of(form: forms.Form) -> dict[str, Any]:
    """What the person sent, to show again beside the errors (checkboxes come back as booleans)."""
    values = {name: form[name].value() for name in form.fields}
    values["safeguards"] = values["safeguards"] or []
    return values


def _recent(person: Person, today: date) -> list[ExposureRecord]:
    """The records still open to change: the edit window is the service's, shown here as the list's span."""
    return list(records_of(person).filter(local_date__gte=today - timedelta(days=EDIT_WINDOW_DAYS))[:200])


def _taxonomy() -> dict[str, Any]:
    return {
        "media_types": MediaType.choices,
        "severities": [(s.code, s.label) for s in severities()],
        "safeguards": Safeguard.choices,
        "edit_window_days": EDIT_WINDOW_DAYS,
    }


def _week(person: Person, today: date) -> dict[str, Any]:
    summary = own_summary(person, period="week", today=today)
    rows = [{"code": code, "label": label, **summary["by_media_type"][code]} for code, label in MediaType.choices]
    chart = {
        "media_types": [{"code": r["code"], "label": r["label"]} for r in rows],
        "minutes": [r["minutes"] for r in rows],
        "total": summary["minutes"],
    }
    return {"summary": summary, "rows": rows, "chart": chart}


@login_required
def log(request: HttpRequest) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    today = _today()
    form: DayEntryForm | None = None
    if request.method == "POST":
        form = DayEntryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = exposure_record_create(
                    person=person,
                    data=RecordInput(
                        kind=RecordKind.DAY,
                        date=data["date"],
                        minutes=data["minutes"],
                        media_type=data["media_type"],
                        severity=data["severity"],
                        audio=data["audio"],
                        unexpected=data["unexpected"],
                        got_to_me=data["got_to_me"],
                        safeguards=tuple(data["safeguards"]),
                        items=data["items"],
                    ),
                    source=Source.WEB,
                    now=timezone.now(),
                )
            except RecordRejected as exc:
                _reject_into(form, exc)
            except NotPermitted:
                pass  # the choice is not given (or was just withdrawn): the explanation below says so
            else:
                minutes = record.seconds // 60
                messages.success(
                    request,
                    f"Logged {minutes} minute{'s' if minutes != 1 else ''} for {record.local_date:%a %-d %b}.",
                )
                return redirect("log")
    if not choices_of(person).record:
        # Nothing is kept without the choice: explain, and link to where it is given, rather than a form that fails.
        return render(request, "frontend/log.html", {"record_given": False}, status=403 if form else 200)

    usual = usual_pattern(person)
    if form is None:
        values: dict[str, Any] = {**usual, "date": today.isoformat(), "safeguards": [], "items": ""}
    else:
        values = _values_of(form)
    context = {
        "record_given": True,
        "form": form,
        "values": values,
        "usual": usual,
        "today": today,
        "records": _recent(person, today),
        "preference": preference_of(person),
        "week": _week(person, today),
        **_taxonomy(),
    }
    # A rejected form comes back with 200: it is the page again, with its errors, not an error page.
    return render(request, "frontend/log.html", context)


@login_required
def records_fragment(request: HttpRequest) -> HttpResponse:
    """The recent-records list alone, so the page can refresh it after the timer saves a session."""
    person: Person = request.user  # type: ignore[assignment]
    today = _today()
    context = {"records": _recent(person, today), **_taxonomy()}
    return render(request, "frontend/log/records.html", context)


def _own_record(request: HttpRequest, record_id: str) -> ExposureRecord:
    return get_object_or_404(records_of(request.user), public_id=record_id)  # type: ignore[arg-type]


@login_required
def record_edit(request: HttpRequest, record_id: str) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    record = _own_record(request, record_id)
    is_day = record.kind == RecordKind.DAY
    form: forms.Form | None = None
    if request.method == "POST":
        form = DayEntryForm(request.POST) if is_day else AttributesForm(request.POST)
        if form.is_valid():
            names = ATTRIBUTES + (("date", "minutes") if is_day else ())
            changes = {name: form.cleaned_data[name] for name in names}
            changes["safeguards"] = tuple(changes["safeguards"])
            try:
                exposure_record_update(
                    person=person,
                    record=record,
                    changes=changes,
                    now=timezone.now(),
                    request_id=request_id_of(request),
                )
            except RecordRejected as exc:
                _reject_into(form, exc)
            else:
                messages.success(request, "Record changed.")
                return redirect("log")
    if form is None:
        values: dict[str, Any] = {name: getattr(record, name) for name in ATTRIBUTES}
        values["items"] = "" if record.items is None else record.items
        if is_day:
            values.update(date=record.local_date.isoformat(), minutes=record.seconds // 60)
    else:
        values = _values_of(form)
    context = {
        "record": record,
        "is_day": is_day,
        "form": form,
        "values": values,
        "today": _today(),
        **_taxonomy(),
    }
    return render(request, "frontend/log/edit.html", context)


@login_required
@require_POST
def record_delete(request: HttpRequest, record_id: str) -> HttpResponse:
    person: Person = request.user  # type: ignore[assignment]
    record = _own_record(request, record_id)
    try:
        exposure_record_delete(person=person, record=record, now=timezone.now(), request_id=request_id_of(request))
    except RecordRejected as exc:
        messages.error(request, " ".join(text for texts in exc.errors.values() for text in texts))
    else:
        messages.success(request, "Record deleted.")
    return redirect("log")
