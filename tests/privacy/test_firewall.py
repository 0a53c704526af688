"""The confidentiality firewall: who may open a person's record, withdrawal on the very next request,
erasure through the registry with duty-of-care records kept."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.alerts.models import Alert, AlertState
from backend.alerts.services import alert_close
from backend.audit.models import AuditEntry
from backend.consent.services import choice_set, exclusion_add
from backend.privacy import registry
from backend.privacy.services import record_erase
from tests.conftest import alert_raise, choose

pytestmark = pytest.mark.django_db


def record_url(person, purpose="review"):  # type: ignore[no-untyped-def]
    return f"/api/v1/people/{person.public_id}/record/?purpose={purpose}"


def audit_count(action, subject):  # type: ignore[no-untyped-def]
    return AuditEntry.objects.filter(action=action, subject_id=subject.public_id).count()


def test_withdrawal_takes_effect_on_the_very_next_request_and_open_alerts_stay_with_their_handler(api, personas):
    investigator, officer = personas.investigator, personas.welfare_officer
    choose(investigator, "record", "welfare")
    alert = alert_raise(
        rule="limit.daily",
        person=investigator,
        severity="high",
        dedup_key="limit.daily:x:2026-11-01",
        assignee=officer,
        now=timezone.now(),
    )
    welfare = api.as_(officer)
    opened = welfare.get(record_url(investigator, "alert"))
    assert opened.status_code == 200 and opened.json()["name"] == investigator.name
    assert audit_count("privacy.record.opened", investigator) == 1

    response = api.as_(investigator).post("/api/v1/consents/", {"choice": "welfare", "given": False}, format="json")
    assert response.status_code == 200

    refused = welfare.get(record_url(investigator, "alert"))
    assert refused.status_code in (403, 404)
    assert audit_count("privacy.record.refused", investigator) == 1
    assert str(investigator.public_id) not in [p["id"] for p in welfare.get("/api/v1/people/supported/").json()]

    handled = welfare.get("/api/v1/alerts/").json()["results"]
    assert [a["id"] for a in handled] == [str(alert.public_id)]
    assert handled[0]["person"]["name"] == investigator.name


@pytest.mark.parametrize(
    ("viewer", "choices", "allowed"),
    [
        ("welfare_officer", ("record", "welfare"), True),
        ("lead", ("record", "welfare"), True),
        ("welfare_officer", ("record",), False),
        ("welfare_officer", (), False),
        ("other_welfare_officer", ("record", "welfare"), False),
        ("manager", ("record", "welfare", "rota-signal"), False),
        ("teammate", ("record", "welfare"), False),
        ("admin", ("record", "welfare"), False),
        ("dpo", ("record", "welfare"), False),
        ("clinician", ("record", "welfare"), False),
    ],
)
def test_who_may_open_a_record(api, personas, viewer, choices, allowed):
    choose(personas.investigator, *choices)
    response = api.as_(getattr(personas, viewer)).get(record_url(personas.investigator))
    assert (response.status_code == 200) is allowed
    action = "privacy.record.opened" if allowed else "privacy.record.refused"
    assert audit_count(action, personas.investigator) == 1


def test_an_excluded_welfare_officer_cannot_open_the_record(api, personas):
    choose(personas.investigator, "record", "welfare")
    exclusion_add(person=personas.investigator, officer=personas.welfare_officer, now=timezone.now())
    assert api.as_(personas.welfare_officer).get(record_url(personas.investigator)).status_code == 404
    supported = api.as_(personas.welfare_officer).get("/api/v1/people/supported/").json()
    assert supported == []


def test_a_person_opens_their_own_record_without_an_audit_entry(api, personas):
    response = api.as_(personas.investigator).get(record_url(personas.investigator))
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action__startswith="privacy.record").exists()


def test_opening_needs_a_known_purpose(api, personas):
    choose(personas.investigator, "record", "welfare")
    response = api.as_(personas.welfare_officer).get(record_url(personas.investigator, "curiosity"))
    assert response.status_code == 400 and "purpose" in response.json()["errors"]


def test_a_token_cannot_open_records(api, personas):
    from backend.organisation.services import token_create

    choose(personas.investigator, "record", "welfare")
    _, key = token_create(
        person=personas.welfare_officer, name="t", scopes=["profile:read", "exposure:write"], now=timezone.now()
    )
    assert api.get(record_url(personas.investigator), HTTP_AUTHORIZATION=f"Token {key}").status_code == 403


def test_people_i_support_lists_only_consenting_people_in_covered_units(api, personas):
    choose(personas.investigator, "record", "welfare")
    choose(personas.teammate, "record")
    choose(personas.outsider, "record", "welfare")
    names = [p["name"] for p in api.as_(personas.welfare_officer).get("/api/v1/people/supported/").json()]
    assert names == [personas.investigator.name]
    lead_names = {p["name"] for p in api.as_(personas.lead).get("/api/v1/people/supported/").json()}
    assert lead_names == {personas.investigator.name, personas.outsider.name}
    assert api.as_(personas.manager).get("/api/v1/people/supported/").json() == []


def test_no_permission_is_cached_between_requests(api, personas):
    choose(personas.investigator, "record", "welfare")
    welfare = api.as_(personas.welfare_officer)
    with CaptureQueriesContext(connection) as first:
        assert welfare.get(record_url(personas.investigator)).status_code == 200
    read_choices = [q["sql"] for q in first.captured_queries if "consent_consentstate" in q["sql"]]
    choice_set(person=personas.investigator, choice="record", given=False, channel="api", now=timezone.now())
    assert welfare.get(record_url(personas.investigator)).status_code == 404
    assert read_choices, "the check must read the person's choices from the database on every request"


def test_erasure_removes_closed_alerts_and_keeps_open_ones(api, personas):
    choose(personas.investigator, "record", "welfare")
    now = timezone.now()
    kept = alert_raise(
        rule="r",
        person=personas.investigator,
        severity="high",
        dedup_key="open",
        assignee=personas.welfare_officer,
        now=now,
    )
    closed = alert_raise(
        rule="r",
        person=personas.investigator,
        severity="normal",
        dedup_key="closed",
        assignee=personas.welfare_officer,
        now=now,
    )
    alert_close(alert=closed, actor=personas.welfare_officer, outcome="no_action_needed", now=now)
    client = api.as_(personas.investigator)
    assert client.post("/api/v1/me/erasure/", {"confirm": True}, format="json").status_code == 403  # record still given
    client.post("/api/v1/consents/", {"choice": "record", "given": False}, format="json")
    response = client.post("/api/v1/me/erasure/", {"confirm": True}, format="json")
    assert response.status_code == 200
    assert response.json()["erased"]["alerts.alerts"] == 1
    assert list(Alert.objects.values_list("dedup_key", flat=True)) == ["open"]
    assert Alert.objects.get(pk=kept.pk).state == AlertState.OPEN
    assert audit_count("privacy.record.erased", personas.investigator) == 1


def test_erasure_needs_explicit_confirmation(api, personas):
    response = api.as_(personas.investigator).post("/api/v1/me/erasure/", {"confirm": False}, format="json")
    assert response.status_code == 400 and "confirm" in response.json()["errors"]


def test_erasure_is_all_or_nothing_across_the_registry(personas):
    from backend.common.privacy_spec import PersonalData

    now = timezone.now()
    alert_raise(rule="r", person=personas.investigator, severity="normal", dedup_key="c", assignee=None, now=now)
    Alert.objects.update(state=AlertState.CLOSED)

    def explode(person, when):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    registry.register(PersonalData(name="zz.failing", description="", export=lambda p: [], erase=explode))
    try:
        with pytest.raises(RuntimeError):
            record_erase(person=personas.investigator, now=now)
    finally:
        registry.unregister("zz.failing")
    assert Alert.objects.count() == 1, "the alerts erased before the failure must come back"
    assert not AuditEntry.objects.filter(action="privacy.record.erased").exists()


def test_every_registered_spec_exports_and_says_what_happens_on_erasure(personas):
    from backend.privacy.selectors import subject_export

    choose(personas.investigator, "record")
    exported = subject_export(personas.investigator)
    names = {spec.name for spec in registry.registered()}
    assert {
        "organisation.profile",
        "organisation.tokens",
        "consent.history",
        "consent.exclusions",
        "alerts.alerts",
        "audit.access_log",
    } <= names
    assert set(exported) == names
    assert exported["consent.history"]["rows"][0]["choice"] == "record"
    assert all(spec.erase or spec.kept_because for spec in registry.registered())
