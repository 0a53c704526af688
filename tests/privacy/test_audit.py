import json
import logging

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from backend.audit import services as audit
from backend.audit.models import AuditEntry
from tests.conftest import choose

pytestmark = pytest.mark.django_db


def test_actions_must_be_namespaced():
    with pytest.raises(ValueError):
        audit.record("viewed", actor=None)


def test_audit_rows_hold_plain_ids_not_foreign_keys():
    fields = {f.name: f for f in AuditEntry._meta.get_fields()}
    assert not any(f.is_relation for f in fields.values())


def test_entries_are_also_written_as_json_lines(personas, caplog):
    with caplog.at_level(logging.INFO, logger="keel.audit"):
        audit.record(
            "privacy.record.opened", actor=personas.welfare_officer, subject=personas.investigator, purpose="alert"
        )
    line = json.loads(caplog.records[-1].getMessage())
    assert line["action"] == "privacy.record.opened"
    assert line["subject"] == str(personas.investigator.public_id)


def test_the_audit_table_refuses_update_and_delete_on_postgresql(postgres, personas):
    entry = audit.record("privacy.record.opened", actor=personas.welfare_officer, subject=personas.investigator)
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(purpose="changed")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).purpose == ""


def test_the_application_role_has_no_update_or_delete_grant_on_postgresql(postgres, personas):
    """The two-role set-up documented in docker/README.md, proven: even with the trigger off, keel_app
    cannot change the log."""
    entry = audit.record("privacy.record.opened", actor=personas.welfare_officer, subject=personas.investigator)
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN CREATE ROLE keel_app_test NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        cursor.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO keel_app_test")
        cursor.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditentry FROM keel_app_test")
        cursor.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO keel_app_test")
    for statement in (
        "UPDATE audit_auditentry SET purpose = 'x' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL ROLE keel_app_test")
            cursor.execute(statement, [entry.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE keel_app_test")
        cursor.execute(
            "INSERT INTO audit_auditentry"
            " (public_id, at, action, actor_role, object_ref, purpose, request_id, outcome) "
            "VALUES (gen_random_uuid(), now(), 'audit.role.checked', '', '', '', '', 'ok')"
        )
    assert AuditEntry.objects.filter(action="audit.role.checked").exists()


def test_who_looked_at_my_data_lists_others_openings_and_withheld_entries(api, personas):
    choose(personas.investigator, "record", "welfare")
    api.as_(personas.welfare_officer).get(f"/api/v1/people/{personas.investigator.public_id}/record/?purpose=alert")
    api.as_(personas.manager).get(f"/api/v1/people/{personas.investigator.public_id}/record/")
    secret = audit.record(
        "privacy.record.exported", actor=personas.dpo, subject=personas.investigator, purpose="disclosure"
    )
    dpo = api.as_(personas.dpo)
    assert (
        dpo.post(
            "/api/v1/audit/withholdings/",
            {"entry": str(secret.public_id), "ground": "DPA 2018 Sch 2 para 2"},
            format="json",
        ).status_code
        == 201
    )

    log = api.as_(personas.investigator).get("/api/v1/me/access-log/").json()["results"]
    visible = [e for e in log if not e["withheld"]]
    assert {(e["who"], e["what"], e["why"]) for e in visible} == {
        (personas.welfare_officer.name, "privacy.record.opened", "alert"),
        (personas.manager.name, "privacy.record.refused", "review"),
    }
    withheld = [e for e in log if e["withheld"]]
    assert len(withheld) == 1 and withheld[0]["who"] is None and withheld[0]["at"] is None
    own_choices = [e for e in log if (e["what"] or "").startswith("consent.")]
    assert own_choices == [], "the person's own actions are not 'someone looking'"


def test_only_the_dpo_withholds(api, personas):
    entry = audit.record("privacy.record.opened", actor=personas.welfare_officer, subject=personas.investigator)
    for who in (personas.lead, personas.admin, personas.investigator):
        response = api.as_(who).post(
            "/api/v1/audit/withholdings/", {"entry": str(entry.public_id), "ground": "x"}, format="json"
        )
        assert response.status_code == 403


@pytest.mark.parametrize("who", ["dpo", "lead"])
def test_dpo_and_lead_see_and_export_entries_by_subject_and_that_is_audited(api, personas, who):
    audit.record(
        "privacy.record.opened", actor=personas.welfare_officer, subject=personas.investigator, purpose="alert"
    )
    audit.record("privacy.record.opened", actor=personas.welfare_officer, subject=personas.teammate, purpose="alert")
    client = api.as_(getattr(personas, who))
    body = client.get(f"/api/v1/audit/entries/?subject={personas.investigator.public_id}").json()
    assert body["count"] == 1
    assert body["results"][0]["subject_name"] == personas.investigator.name
    by_actor = client.get(f"/api/v1/audit/entries/?actor={personas.welfare_officer.public_id}").json()
    assert by_actor["count"] == 2
    export = client.get(f"/api/v1/audit/entries/export/?subject={personas.investigator.public_id}")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert personas.investigator.name in export.content.decode()
    assert AuditEntry.objects.filter(
        action="audit.entries.exported", subject_id=personas.investigator.public_id
    ).exists()


def test_administrators_see_neutral_action_names_and_no_subjects(api, personas):
    audit.record(
        "privacy.record.opened", actor=personas.welfare_officer, subject=personas.investigator, purpose="alert"
    )
    client = api.as_(personas.admin)
    rows = client.get("/api/v1/audit/entries/").json()["results"]
    assert rows and all(set(r) == {"at", "actor_role", "action", "outcome"} for r in rows)
    assert {r["action"] for r in rows} == {"access to personal data"}
    text = client.get("/api/v1/audit/entries/").content.decode()
    assert str(personas.investigator.public_id) not in text and personas.investigator.name not in text
    assert client.get(f"/api/v1/audit/entries/?subject={personas.investigator.public_id}").status_code == 403
    assert client.get("/api/v1/audit/entries/export/").status_code == 403


@pytest.mark.parametrize("who", ["investigator", "manager", "welfare_officer", "clinician"])
def test_others_cannot_read_the_audit_log(api, personas, who):
    assert api.as_(getattr(personas, who)).get("/api/v1/audit/entries/").status_code == 403


def test_bad_filters_are_400(api, personas):
    response = api.as_(personas.dpo).get("/api/v1/audit/entries/?subject=not-a-uuid")
    assert response.status_code == 400 and "subject" in response.json()["errors"]


def test_token_writes_and_role_changes_are_audited(client, personas):
    from backend.organisation.models import RoleAssignment

    client.force_login(personas.admin)
    person = personas.teammate
    url = f"/admin/organisation/person/{person.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    roles = list(RoleAssignment.objects.filter(person=person))
    data = {
        "username": person.username,
        "display_name": person.display_name,
        "first_name": "",
        "last_name": "",
        "email": "",
        "staff_type": person.staff_type,
        "employing_organisation": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "role_assignments-TOTAL_FORMS": str(len(roles) + 1),
        "role_assignments-INITIAL_FORMS": str(len(roles)),
    }
    for i, r in enumerate(roles):
        data.update(
            {
                f"role_assignments-{i}-id": str(r.pk),
                f"role_assignments-{i}-person": str(person.pk),
                f"role_assignments-{i}-role": r.role,
                f"role_assignments-{i}-unit": "",
                f"role_assignments-{i}-team": "",
            }
        )
    n = len(roles)
    data.update(
        {
            f"role_assignments-{n}-role": "welfare_lead",
            f"role_assignments-{n}-person": str(person.pk),
            f"role_assignments-{n}-unit": "",
            f"role_assignments-{n}-team": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AuditEntry.objects.filter(
        action="organisation.role.assigned", subject_id=person.public_id, object_ref="welfare_lead"
    ).exists()
    assert timezone.now()
