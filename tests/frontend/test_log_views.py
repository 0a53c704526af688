"""The logging page without a browser: the end-of-shift form, its errors, edit and delete of own records."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from backend.exposure.models import ExposureRecord, RecordKind, Source
from backend.exposure.periods import local_date
from backend.exposure.selectors import organisation_tz
from backend.exposure.services import RecordInput, exposure_record_create
from backend.organisation.models import Person
from tests.conftest import Personas, choose


def today() -> Any:
    return local_date(timezone.now(), organisation_tz())


def client_of(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def day_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "date": today().isoformat(),
        "minutes": "95",
        "media_type": "video",
        "severity": "B",
        "audio": "on",
        "got_to_me": "on",
        "safeguards": ["blur", "muted"],
        "items": "40",
    }
    data.update(overrides)
    return data


def day_entry(person: Person, minutes: int = 30, **fields: Any) -> ExposureRecord:
    data = RecordInput(kind=RecordKind.DAY, date=today(), minutes=minutes, media_type="still", severity="C", **fields)
    return exposure_record_create(person=person, data=data, source=Source.API, now=timezone.now())


@pytest.fixture
def investigator(personas: Personas) -> Person:
    choose(personas.investigator, "record")
    return personas.investigator


def test_the_page_requires_sign_in(db: Any) -> None:
    response = Client().get("/log/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert Client().post("/log/", day_form()).status_code == 302
    assert ExposureRecord.objects.count() == 0


def test_the_form_is_prefilled_with_today_and_the_usual_pattern(investigator: Person) -> None:
    day_entry(investigator, minutes=120, audio=True)
    html = client_of(investigator).get("/log/").content.decode()
    assert f'name="date" value="{today().isoformat()}"' in html
    assert 'name="minutes" value="120"' in html
    assert 'id="f-media-still" name="media_type" value="still" checked' in html
    assert 'id="f-severity-C" name="severity" value="C" checked' in html
    assert 'id="f-audio" name="audio" checked' in html
    assert 'id="week-data" type="application/json"' in html


def test_posting_the_form_creates_a_day_entry_from_the_web(investigator: Person) -> None:
    client = client_of(investigator)
    response = client.post("/log/", day_form())
    assert response.status_code == 302 and response["Location"] == "/log/"
    record = ExposureRecord.objects.get(person=investigator)
    assert record.source == Source.WEB
    assert record.kind == RecordKind.DAY
    assert (record.local_date, record.seconds, record.media_type, record.severity) == (today(), 95 * 60, "video", "B")
    assert (record.audio, record.unexpected, record.got_to_me) == (True, False, True)
    assert record.safeguards == ["blur", "muted"] and record.items == 40

    page = client.get("/log/")
    assert "Logged 95 minutes" in page.content.decode()
    assert page.context["week"]["summary"]["minutes"] == 95


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("0", "Minutes in a day are between 1 and 960"),
        ("2000", "Minutes in a day are between 1 and 960"),
        ("lots", "Enter a whole number."),
    ],
)
def test_invalid_minutes_show_the_field_error_and_store_nothing(
    investigator: Person, minutes: str, message: str
) -> None:
    response = client_of(investigator).post("/log/", day_form(minutes=minutes))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'id="err-minutes"' in html and 'aria-invalid="true"' in html
    assert f'name="minutes" value="{minutes}"' in html  # what was sent comes back to be corrected
    assert ExposureRecord.objects.count() == 0


def test_a_future_date_is_refused_with_the_services_words(investigator: Person) -> None:
    response = client_of(investigator).post("/log/", day_form(date=(today() + timedelta(days=1)).isoformat()))
    assert response.status_code == 200
    assert "The date is in the future." in response.content.decode()
    assert ExposureRecord.objects.count() == 0


def test_without_the_record_choice_the_page_explains_and_links_to_choices(personas: Personas) -> None:
    client = client_of(personas.investigator)
    page = client.get("/log/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "you have not chosen <strong>record</strong>" in html
    assert 'href="/choices/"' in html
    assert 'id="day-form"' not in html
    refused = client.post("/log/", day_form())
    assert refused.status_code == 403
    assert 'href="/choices/"' in refused.content.decode()
    assert ExposureRecord.objects.count() == 0


def test_recent_records_list_own_records_with_edit_and_delete(investigator: Person, personas: Personas) -> None:
    mine = day_entry(investigator)
    choose(personas.teammate, "record")
    theirs = day_entry(personas.teammate)
    html = client_of(investigator).get("/log/").content.decode()
    assert f"/log/records/{mine.public_id}/edit/" in html
    assert f"/log/records/{mine.public_id}/delete/" in html
    assert 'data-confirm="Delete this record' in html
    assert str(theirs.public_id) not in html


def test_editing_an_own_day_entry_changes_it(investigator: Person) -> None:
    record = day_entry(investigator, minutes=30)
    client = client_of(investigator)
    page = client.get(f"/log/records/{record.public_id}/edit/")
    assert page.status_code == 200 and 'name="minutes" value="30"' in page.content.decode()
    response = client.post(
        f"/log/records/{record.public_id}/edit/", day_form(minutes="45", media_type="text", severity="A")
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.seconds, record.media_type, record.severity, record.got_to_me) == (45 * 60, "text", "A", True)


def test_editing_with_bad_minutes_shows_the_error_and_changes_nothing(investigator: Person) -> None:
    record = day_entry(investigator, minutes=30)
    response = client_of(investigator).post(f"/log/records/{record.public_id}/edit/", day_form(minutes="0"))
    assert response.status_code == 200
    assert "Minutes in a day are between 1 and 960" in response.content.decode()
    record.refresh_from_db()
    assert record.seconds == 30 * 60


def test_editing_a_timed_session_changes_its_attributes_only(investigator: Person) -> None:
    now = timezone.now()
    session = exposure_record_create(
        person=investigator,
        data=RecordInput(
            kind=RecordKind.SESSION,
            media_type="still",
            severity="C",
            started_at=now - timedelta(minutes=50),
            ended_at=now - timedelta(minutes=20),
        ),
        source=Source.TIMER,
        now=now,
    )
    response = client_of(investigator).post(
        f"/log/records/{session.public_id}/edit/", {"media_type": "live", "severity": "B", "unexpected": "on"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.media_type, session.severity, session.unexpected, session.seconds) == ("live", "B", True, 1800)


def test_deleting_an_own_record_removes_it(investigator: Person) -> None:
    record = day_entry(investigator)
    client = client_of(investigator)
    assert client.get(f"/log/records/{record.public_id}/delete/").status_code == 405
    response = client.post(f"/log/records/{record.public_id}/delete/")
    assert response.status_code == 302
    assert not ExposureRecord.objects.filter(pk=record.pk).exists()
    assert "Record deleted." in client.get("/log/").content.decode()


def test_someone_elses_record_cannot_be_edited_or_deleted(investigator: Person, personas: Personas) -> None:
    choose(personas.teammate, "record")
    theirs = day_entry(personas.teammate, minutes=30)
    client = client_of(investigator)
    assert client.get(f"/log/records/{theirs.public_id}/edit/").status_code == 404
    assert client.post(f"/log/records/{theirs.public_id}/edit/", day_form(minutes="5")).status_code == 404
    assert client.post(f"/log/records/{theirs.public_id}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.seconds == 30 * 60


def test_a_record_older_than_the_edit_window_cannot_be_deleted(investigator: Person) -> None:
    old = exposure_record_create(
        person=investigator,
        data=RecordInput(
            kind=RecordKind.DAY, date=today() - timedelta(days=9), minutes=20, media_type="still", severity="C"
        ),
        source=Source.API,
        now=timezone.now(),
    )
    client = client_of(investigator)
    assert str(old.public_id) not in client.get("/log/").content.decode()
    response = client.post(f"/log/records/{old.public_id}/delete/", follow=True)
    assert "Records can be changed or deleted for 7 days only." in response.content.decode()
    assert ExposureRecord.objects.filter(pk=old.pk).exists()


def test_the_nav_links_the_page_first_for_investigators_only(investigator: Person, personas: Personas) -> None:
    html = client_of(investigator).get("/").content.decode()
    nav = html[html.index('<ul class="nav">') :]
    assert nav.index('href="/log/"') < nav.index('href="/"')
    assert 'data-home="investigator"' in html
    assert 'href="/log/">Log exposure</a>' not in client_of(personas.welfare_officer).get("/").content.decode()


def test_the_weeks_table_adds_up_a_kind_logged_twice(investigator: Person) -> None:
    day_entry(investigator, minutes=30)
    day_entry(investigator, minutes=20)
    week = client_of(investigator).get("/log/").context["week"]
    still = next(row for row in week["rows"] if row["code"] == "still")
    assert week["summary"]["minutes"] == 50
    assert still["minutes"] == 50
    assert sum(week["chart"]["minutes"]) == 50
