import pytest

from backend.audit.models import AuditEntry
from backend.policies.models import Policy

pytestmark = pytest.mark.django_db


def url(unit):  # type: ignore[no-untyped-def]
    return f"/api/v1/policies/{unit.public_id}/"


def test_units_without_a_policy_show_the_shipped_defaults_marked_for_review(api, personas):
    body = api.as_(personas.investigator).get(url(personas.unit)).json()
    assert (body["daily_limit"], body["weekly_limit"], body["early_warning_percent"], body["heavy_days"]) == (
        240,
        900,
        80,
        3,
    )
    assert body["is_default"] is True and "occupational health" in body["note"]


@pytest.mark.parametrize("who", ["lead", "admin"])
def test_lead_and_administrator_change_policy_as_a_new_audited_version(api, personas, who):
    client = api.as_(getattr(personas, who))
    first = client.put(url(personas.unit), {"daily_limit": 200}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 1 and first.json()["weekly_limit"] == 900
    second = client.put(url(personas.unit), {"weekly_limit": 800}, format="json").json()
    assert second["version"] == 2 and second["daily_limit"] == 200
    history = client.get(f"{url(personas.unit)}history/").json()
    assert [p["version"] for p in history] == [2, 1]
    assert AuditEntry.objects.filter(action="policies.policy.changed").count() == 2


@pytest.mark.parametrize("who", ["investigator", "manager", "welfare_officer", "clinician", "dpo"])
def test_nobody_else_changes_policy(api, personas, who):
    response = api.as_(getattr(personas, who)).put(url(personas.unit), {"daily_limit": 100}, format="json")
    assert response.status_code == 403 and not Policy.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"early_warning_percent": 120}, "early_warning_percent"),
        ({"daily_limit": -5}, "daily_limit"),
        ({"daily_limit": 500, "weekly_limit": 400}, "weekly_limit"),
        ({"screening_reminder_days": 40, "screening_alert_days": 30}, "screening_alert_days"),
        ({"limit_basis": "vibes"}, "limit_basis"),
    ],
)
def test_bad_policies_are_refused_and_change_nothing(api, personas, body, field):
    response = api.as_(personas.lead).put(url(personas.unit), body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Policy.objects.exists()


def test_the_persons_summary_uses_their_units_policy(api, personas):
    from tests.conftest import choose

    api.as_(personas.lead).put(url(personas.unit), {"daily_limit": 120, "early_warning_percent": 50}, format="json")
    choose(personas.investigator, "record")
    body = api.as_(personas.investigator).get("/api/v1/exposure/summary/?period=day").json()
    assert body["limit_minutes"] == 120 and body["early_warning_minutes"] == 60 and "version 1" in body["limits_note"]


def test_the_policies_page_shows_defaults_for_review_and_saves_a_version(client, personas):
    client.force_login(personas.lead)
    page = client.get("/policies/").content.decode()
    assert "review with occupational health" in page
    form = {
        "unit": str(personas.unit.public_id),
        "limit_basis": "minutes",
        "daily_limit": "200",
        "weekly_limit": "900",
        "early_warning_percent": "80",
        "heavy_days": "3",
        "break_reminder_minutes": "50",
        "follow_up_first_hours": "72",
        "follow_up_second_days": "28",
        "screening_months_exposed": "6",
        "screening_months_other": "12",
        "screening_reminder_days": "14",
        "screening_alert_days": "30",
        "tenure_review_years": "3",
        "follow_up_on_unexpected": "on",
        "follow_up_on_live": "on",
        "follow_up_on_got_to_me": "on",
    }
    client.post("/policies/", form)
    policy = Policy.objects.get()
    assert policy.daily_limit == 200 and policy.follow_up_on_team_incident is False
    client.force_login(personas.manager)
    client.post("/policies/", {**form, "daily_limit": "100"})
    assert Policy.objects.count() == 1


def test_the_lead_is_told_about_units_without_out_of_hours_cover(client, personas):
    client.force_login(personas.lead)
    page = client.get("/policies/").content.decode()
    assert "nobody on call" in page and personas.unit.name in page
