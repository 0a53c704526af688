"""Every error the API returns is problem JSON; pages get a proper page. Never a traceback."""

import pytest

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert "Traceback" not in response.content.decode()
    return body


def test_unknown_api_route_is_a_404_problem(api, personas):
    assert_problem(api.as_(personas.investigator).get("/api/v1/nothing-here/"), 404)


def test_unknown_api_route_without_login_is_a_404_problem(api):
    assert_problem(api.get("/api/v1/nothing-here/"), 404)


def test_wrong_method_is_a_405_problem_with_allow_header(api, personas):
    response = api.as_(personas.investigator).put("/api/v1/me/", {}, format="json")
    assert_problem(response, 405)
    assert "GET" in response["Allow"]


def test_wrong_method_on_health_endpoint_is_a_405_problem(client):
    assert_problem(client.post("/healthz"), 405)


def test_malformed_json_is_a_400_problem_and_creates_nothing(api, personas):
    from backend.organisation.models import ApiToken

    response = api.as_(personas.investigator).post(
        "/api/v1/tokens/", data='{"name": "x", "scopes": [', content_type="application/json"
    )
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]
    assert ApiToken.objects.count() == 0


def test_field_errors_are_listed_per_field(api, personas):
    response = api.as_(personas.investigator).post("/api/v1/tokens/", {"scopes": ["nope"]}, format="json")
    body = assert_problem(response, 400)
    assert set(body["errors"]) == {"name", "scopes[0]"}


def test_anonymous_api_request_is_a_401_problem(api):
    body = assert_problem(api.get("/api/v1/me/"), 401)
    assert body["type"] == "urn:keel:problem:not_authenticated"


def test_unsupported_media_type_is_a_415_problem(api, personas):
    response = api.as_(personas.investigator).post("/api/v1/tokens/", data="name=x", content_type="text/plain")
    assert_problem(response, 415)


def test_unknown_page_is_a_404_page_not_json(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content


def test_unhandled_api_error_is_a_500_problem_without_traceback(api, personas, monkeypatch):
    from backend.organisation import api as organisation_api

    def explode(person):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(organisation_api, "roles_of", explode)
    client = api.as_(personas.investigator)
    client.raise_request_exception = False
    response = client.get("/api/v1/me/")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.content.decode()
    assert body["detail"]


def test_oversized_body_is_refused(api, personas, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.as_(personas.investigator).post(
        "/api/v1/tokens/", {"name": "x" * 5000, "scopes": ["exposure:write"]}, format="json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/problem+json")


def test_throttled_requests_get_a_429_problem(api, personas, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    client = api.as_(personas.investigator)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me/")
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
