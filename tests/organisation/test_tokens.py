from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from backend.audit.models import AuditEntry
from backend.organisation.models import ApiToken, TokenScope
from backend.organisation.services import token_create

pytestmark = pytest.mark.django_db


def mint(person, *scopes, days=30, now=None):  # type: ignore[no-untyped-def]
    return token_create(person=person, name="tool", scopes=list(scopes), days=days, now=now or timezone.now())


def test_create_token_prints_the_key_alone_on_its_last_line(personas):
    out = StringIO()
    call_command(
        "create_token", personas.investigator.username, "--scope", "exposure:write", stdout=out, stderr=StringIO()
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("keel_") and " " not in key
    token = ApiToken.objects.get(person=personas.investigator)
    assert token.scopes == ["exposure:write"]
    assert key.split("_")[-1] not in token.key_hash  # only a hash is stored
    assert AuditEntry.objects.filter(
        action="organisation.token.created", subject_id=personas.investigator.public_id
    ).exists()


def test_create_token_for_unknown_user_fails_clearly():
    with pytest.raises(CommandError, match="No person"):
        call_command("create_token", "nobody", stdout=StringIO(), stderr=StringIO())


def test_token_with_profile_scope_reads_me(api, personas):
    _, key = mint(personas.investigator, TokenScope.PROFILE_READ)
    response = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["id"] == str(personas.investigator.public_id)
    assert response["Cache-Control"].startswith("no-store")


def test_write_only_token_cannot_read_me(api, personas):
    _, key = mint(personas.investigator, TokenScope.EXPOSURE_WRITE)
    response = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 403


def test_token_cannot_manage_tokens(api, personas):
    _, key = mint(personas.investigator, TokenScope.PROFILE_READ, TokenScope.EXPOSURE_WRITE)
    assert api.get("/api/v1/tokens/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 403
    response = api.post(
        "/api/v1/tokens/", {"name": "x", "scopes": ["profile:read"]}, format="json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(
    "mangle", [lambda k: k + "x", lambda k: k[:-1], lambda k: "keel_00000000_abc", lambda k: "garbage"]
)
def test_bad_token_is_401(api, personas, mangle):
    _, key = mint(personas.investigator, TokenScope.PROFILE_READ)
    response = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {mangle(key)}")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_expired_token_is_401(api, personas):
    _, key = mint(personas.investigator, TokenScope.PROFILE_READ, days=1, now=timezone.now() - timedelta(days=2))
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_token_of_inactive_account_is_401(api, personas):
    _, key = mint(personas.investigator, TokenScope.PROFILE_READ)
    personas.investigator.is_active = False
    personas.investigator.save()
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_revoked_token_is_refused_on_the_next_request(api, personas):
    token, key = mint(personas.investigator, TokenScope.PROFILE_READ)
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    response = api.as_(personas.investigator).delete(f"/api/v1/tokens/{token.public_id}/")
    assert response.status_code == 200
    assert response.json()["revoked_at"]
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert AuditEntry.objects.filter(action="organisation.token.revoked").count() == 1


def test_person_cannot_revoke_someone_elses_token(api, personas):
    token, _ = mint(personas.teammate, TokenScope.PROFILE_READ)
    assert api.as_(personas.investigator).delete(f"/api/v1/tokens/{token.public_id}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_are_listed_for_their_owner_only(api, personas):
    mint(personas.investigator, TokenScope.PROFILE_READ)
    mint(personas.teammate, TokenScope.PROFILE_READ)
    body = api.as_(personas.investigator).get("/api/v1/tokens/").json()
    assert body["count"] == 1
    assert "key" not in body["results"][0] and "key_hash" not in body["results"][0]


def test_token_created_through_the_api_returns_its_key_once(api, personas):
    client = api.as_(personas.investigator)
    created = client.post(
        "/api/v1/tokens/", {"name": "grader", "scopes": ["exposure:write"], "days": 10}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["key"].startswith("keel_")
    listed = client.get("/api/v1/tokens/").json()["results"][0]
    assert "key" not in listed


def test_token_scopes_and_lifetime_are_validated(api, personas):
    client = api.as_(personas.investigator)
    assert client.post("/api/v1/tokens/", {"name": "x", "scopes": []}, format="json").status_code == 400
    assert client.post("/api/v1/tokens/", {"name": "x", "scopes": ["admin"]}, format="json").status_code == 400
    bad_days = client.post("/api/v1/tokens/", {"name": "x", "scopes": ["exposure:write"], "days": 999}, format="json")
    assert bad_days.status_code == 400
    assert ApiToken.objects.count() == 0


def test_account_page_lists_tokens_and_revokes(client, personas):
    token, _ = mint(personas.investigator, TokenScope.EXPOSURE_WRITE)
    client.force_login(personas.investigator)
    page = client.get("/account/")
    assert token.prefix in page.content.decode()
    client.post(f"/account/tokens/{token.public_id}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_account_page_creates_a_token_and_shows_the_key_once(client, personas):
    client.force_login(personas.investigator)
    page = client.post("/account/", {"name": "grader", "scopes": ["exposure:write"], "days": "30"})
    assert "keel_" in page.content.decode()
    assert "keel_" not in client.get("/account/").content.decode()


def test_reaching_for_someone_elses_token_is_audited_against_its_owner(api, personas):
    token, _ = mint(personas.teammate, TokenScope.PROFILE_READ)
    assert api.as_(personas.investigator).delete(f"/api/v1/tokens/{token.public_id}/").status_code == 404
    entry = AuditEntry.objects.get(action="organisation.token.refused")
    assert (entry.actor_id, entry.subject_id, entry.outcome) == (
        personas.investigator.public_id,
        personas.teammate.public_id,
        "refused",
    )
