"""The work queue: acknowledge, assign, record an action, close; escalation with an explicit now."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.alerts.models import Alert, AlertEvent, Notification
from backend.alerts.services import alerts_escalate_overdue
from backend.audit.models import AuditEntry
from backend.exposure.models import RecordKind
from backend.exposure.services import RecordInput, exposure_record_create
from tests.conftest import choose
from tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def alert(personas):  # type: ignore[no-untyped-def]
    backup = PersonFactory(username="backup")
    RoleFactory(person=backup, role="welfare_officer", unit=personas.other_unit)
    personas.unit.backup_welfare_officer = backup
    personas.unit.save()
    choose(personas.investigator, "record", "welfare")
    exposure_record_create(
        person=personas.investigator,
        data=RecordInput(kind=RecordKind.DAY, media_type="still", severity="C", date=NOW.date(), minutes=250),
        source="api",
        now=NOW,
    )
    return Alert.objects.get(rule="exposure.daily_limit")


def act(client, alert, action, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/alerts/{alert.public_id}/{action}/", body, format="json")


def test_the_queue_lists_the_handlers_alerts_most_urgent_first(api, personas, alert):
    from tests.conftest import alert_raise

    alert_raise(
        rule="exposure.follow_up",
        person=personas.investigator,
        severity="urgent",
        dedup_key="u",
        assignee=personas.welfare_officer,
        now=NOW,
    )
    queue = api.as_(personas.welfare_officer).get("/api/v1/alerts/").json()["results"]
    assert [a["severity"] for a in queue] == ["urgent", "high"]
    assert queue[1]["person"]["name"] == personas.investigator.name and queue[1]["title"] == "Daily limit passed"
    assert api.as_(personas.other_welfare_officer).get("/api/v1/alerts/").json()["results"] == []
    assert len(api.as_(personas.lead).get("/api/v1/alerts/").json()["results"]) == 2


def test_acknowledge_record_action_and_close(api, personas, alert):
    client = api.as_(personas.welfare_officer)
    assert act(client, alert, "acknowledge").json()["state"] == "acknowledged"
    assert act(client, alert, "actions", outcome="contacted").json()["state"] == "action_taken"
    closed = act(client, alert, "close", outcome="checkin_booked").json()
    assert closed["state"] == "closed" and closed["outcome"] == "checkin_booked"
    assert [e["kind"] for e in closed["events"]] == ["raised", "acknowledged", "action", "closed"]
    assert (
        AuditEntry.objects.filter(
            action__startswith="alerts.alert.", subject_id=personas.investigator.public_id
        ).count()
        == 3
    )


def test_closing_needs_an_outcome(api, personas, alert):
    response = act(api.as_(personas.welfare_officer), alert, "close")
    assert response.status_code == 400 and "outcome" in response.json()["errors"]
    assert act(api.as_(personas.welfare_officer), alert, "close", outcome="whatever").status_code == 400
    alert.refresh_from_db()
    assert alert.state == "open"


def test_an_alert_that_is_not_yours_cannot_be_acknowledged(api, personas, alert):
    assert act(api.as_(personas.other_welfare_officer), alert, "acknowledge").status_code == 404
    lead = act(api.as_(personas.lead), alert, "acknowledge")
    assert lead.status_code == 403  # the lead sees it but is not its handler
    alert.refresh_from_db()
    assert alert.state == "open"


def test_an_alert_cannot_be_assigned_to_its_subject_or_an_excluded_officer(api, personas, alert):
    from backend.consent.services import exclusion_add

    client = api.as_(personas.welfare_officer)
    to_subject = act(client, alert, "assign", to=str(personas.investigator.public_id))
    assert to_subject.status_code == 400 and "to" in to_subject.json()["errors"]
    extra = PersonFactory(username="extra-officer")
    RoleFactory(person=extra, role="welfare_officer", unit=personas.unit)
    exclusion_add(person=personas.investigator, officer=extra, now=NOW)
    assert act(client, alert, "assign", to=str(extra.public_id)).status_code == 400
    moved = act(client, alert, "assign", to=str(personas.lead.public_id))
    assert moved.status_code == 200 and moved.json()["assignee"] == personas.lead.name
    assert Notification.objects.filter(recipient=personas.lead, alert=alert).exists()


def test_unacknowledged_alerts_escalate_to_the_backup_then_the_lead_at_most_three_times(personas, alert):
    due = alert.ack_due_at
    assert alerts_escalate_overdue(now=due - timedelta(minutes=1)) == 0
    assert alerts_escalate_overdue(now=due + timedelta(minutes=1)) == 1
    alert.refresh_from_db()
    assert alert.assignee.username == "backup" and alert.escalation_round == 1 and alert.breached
    assert alerts_escalate_overdue(now=alert.ack_due_at + timedelta(minutes=1)) == 1
    alert.refresh_from_db()
    assert alert.assignee == personas.lead and alert.escalation_round == 2
    assert alerts_escalate_overdue(now=alert.ack_due_at + timedelta(minutes=1)) == 1
    alert.refresh_from_db()
    assert alert.escalation_round == 3
    assert alerts_escalate_overdue(now=alert.ack_due_at + timedelta(days=30)) == 0  # bounded
    steps = list(AlertEvent.objects.filter(alert=alert, kind="escalated").values_list("to__username", flat=True))
    assert steps == ["backup", "lead", "lead"]
    assert AuditEntry.objects.filter(action="alerts.alert.escalated").count() == 3


def test_an_acknowledged_alert_does_not_escalate(api, personas, alert):
    act(api.as_(personas.welfare_officer), alert, "acknowledge")
    assert alerts_escalate_overdue(now=alert.ack_due_at + timedelta(days=1)) == 0


def test_notifications_and_their_read_state(api, personas, alert):
    client = api.as_(personas.welfare_officer)
    body = client.get("/api/v1/notifications/").json()
    assert body["unread"] == 1
    notification = body["results"][0]
    assert client.post(f"/api/v1/notifications/{notification['id']}/read/").json()["read_at"]
    assert client.get("/api/v1/notifications/").json()["unread"] == 0
    assert api.as_(personas.teammate).post(f"/api/v1/notifications/{notification['id']}/read/").status_code == 404


def test_the_work_queue_page_acts_on_alerts(client, personas, alert):
    client.force_login(personas.welfare_officer)
    page = client.get("/alerts/").content.decode()
    assert "Daily limit passed" in page and personas.investigator.name in page
    client.post(f"/alerts/{alert.public_id}/act/", {"action": "acknowledge"})
    client.post(f"/alerts/{alert.public_id}/act/", {"action": "close", "outcome": "contacted"})
    alert.refresh_from_db()
    assert alert.state == "closed" and alert.outcome == "contacted"
