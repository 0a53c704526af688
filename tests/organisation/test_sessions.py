from datetime import timedelta

import pytest
from django.utils import timezone

from backend.organisation.middleware import LOGIN_AT, SEEN_AT

pytestmark = pytest.mark.django_db


def signed_in(client, person, *, login_ago=timedelta(0), seen_ago=timedelta(0)):  # type: ignore[no-untyped-def]
    client.force_login(person)
    session = client.session
    now = timezone.now()
    session[LOGIN_AT] = (now - login_ago).isoformat()
    session[SEEN_AT] = (now - seen_ago).isoformat()
    session.save()
    return client


def test_new_session_id_at_login(client, personas):
    client.get("/login/")
    before = client.cookies.get("sessionid")
    client.post("/login/", {"username": personas.investigator.username, "password": "correct-horse-battery-staple"})
    after = client.cookies.get("sessionid")
    assert after is not None and (before is None or before.value != after.value)
    assert client.get("/").status_code == 200


def test_active_session_is_kept(client, personas):
    signed_in(client, personas.investigator, seen_ago=timedelta(minutes=14))
    assert client.get("/").status_code == 200


def test_idle_session_ends_after_15_minutes(client, personas):
    signed_in(client, personas.investigator, seen_ago=timedelta(minutes=16))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/").status_code == 302  # really signed out


def test_idle_api_session_gets_a_401_problem(api, personas):
    signed_in(api, personas.investigator, seen_ago=timedelta(minutes=16))
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:keel:problem:session_expired"


def test_background_polling_does_not_count_as_activity(client, personas):
    signed_in(client, personas.investigator, seen_ago=timedelta(minutes=10))
    assert client.get("/api/v1/me/", HTTP_X_KEEL_BACKGROUND="1").status_code == 200
    session = client.session
    session[SEEN_AT] = (timezone.now() - timedelta(minutes=16)).isoformat()
    session.save()
    # had the poll counted, the clock would have restarted; it did not, so the next request ends it
    assert client.get("/").status_code == 302


def test_foreground_request_counts_as_activity(client, personas):
    signed_in(client, personas.investigator, seen_ago=timedelta(minutes=10))
    client.get("/")
    seen = client.session[SEEN_AT]
    assert timezone.now() - timezone.datetime.fromisoformat(seen) < timedelta(minutes=1)


def test_absolute_timeout_after_10_hours_even_when_active(client, personas):
    signed_in(client, personas.investigator, login_ago=timedelta(hours=10, minutes=1))
    assert client.get("/").status_code == 302


def test_disabled_account_is_signed_out_on_its_next_request(client, personas):
    signed_in(client, personas.investigator)
    personas.investigator.is_active = False
    personas.investigator.save()
    response = client.get("/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/", "/account/", "/api/v1/me/", "/api/v1/tokens/"])
def test_authenticated_responses_are_no_store(client, personas, path):
    signed_in(client, personas.investigator)
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_pages_need_login(client):
    for path in ("/", "/account/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_wrong_password_shows_the_form_again_without_saying_which_part(client, personas):
    response = client.post("/login/", {"username": personas.investigator.username, "password": "wrong"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
