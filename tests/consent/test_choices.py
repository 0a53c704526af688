import pytest
from django.utils import timezone

from backend.audit.models import AuditEntry
from backend.consent.models import ConsentChange, ConsentState, Notice
from backend.consent.services import notice_publish
from tests.conftest import choose

pytestmark = pytest.mark.django_db


def give(client, choice, version):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/consents/", {"choice": choice, "given": True, "notice_version": version}, format="json")


def withdraw(client, choice):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/consents/", {"choice": choice, "given": False}, format="json")


def test_nothing_is_chosen_until_the_person_chooses(api, personas):
    body = api.as_(personas.investigator).get("/api/v1/consents/").json()
    assert body["choices"] == {"record": False, "welfare": False, "rota_signal": False}
    assert body["notice"]["version"] == 1 and "limits of confidentiality" in body["notice"]["text"]
    assert body["history"] == []


def test_each_choice_is_given_on_its_own_and_recorded_with_notice_hash_and_channel(api, personas, notice_version):
    client = api.as_(personas.investigator)
    response = give(client, "record", notice_version)
    assert response.status_code == 200
    assert response.json()["choices"] == {"record": True, "welfare": False, "rota_signal": False}
    give(client, "rota-signal", notice_version)
    change = ConsentChange.objects.filter(person=personas.investigator).order_by("at", "id").first()
    notice = Notice.objects.get(version=notice_version)
    assert (change.choice, change.given, change.channel) == ("record", True, "api")
    assert change.notice_hash == notice.text_hash == Notice.hash_of(notice.text)
    assert change.at.tzinfo is not None
    history = client.get("/api/v1/consents/").json()["history"]
    assert [h["choice"] for h in history] == ["rota-signal", "record"]
    assert (
        AuditEntry.objects.filter(action="consent.choice.given", subject_id=personas.investigator.public_id).count()
        == 2
    )


@pytest.mark.parametrize("choice", ["welfare", "rota-signal"])
def test_welfare_and_rota_signal_need_record_first(api, personas, notice_version, choice):
    response = give(api.as_(personas.investigator), choice, notice_version)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:keel:problem:choice_order"
    assert "choose 'record' first" in response.json()["detail"]
    assert not ConsentChange.objects.exists()


def test_withdrawing_takes_the_same_single_step_as_giving(api, personas, notice_version):
    client = api.as_(personas.investigator)
    give(client, "record", notice_version)
    give(client, "welfare", notice_version)
    response = withdraw(client, "welfare")
    assert response.status_code == 200
    assert response.json()["choices"] == {"record": True, "welfare": False, "rota_signal": False}


def test_withdrawing_record_withdraws_what_needs_it_and_offers_erasure(api, personas, notice_version):
    client = api.as_(personas.investigator)
    for choice in ("record", "welfare", "rota-signal"):
        give(client, choice, notice_version)
    body = withdraw(client, "record").json()
    assert body["choices"] == {"record": False, "welfare": False, "rota_signal": False}
    assert {c["choice"] for c in body["changed"]} == {"record", "welfare", "rota-signal"}
    assert body["erasure_offered"] is True


def test_withdrawing_what_was_never_given_is_refused_and_changes_nothing(api, personas):
    response = withdraw(api.as_(personas.investigator), "welfare")
    assert response.status_code == 409
    assert "nothing to withdraw" in response.json()["detail"]
    assert not ConsentChange.objects.exists() and not AuditEntry.objects.filter(action__startswith="consent.").exists()


def test_giving_against_a_stale_notice_is_refused_with_the_current_version(api, personas, notice_version):
    notice_publish(text="A revised notice.", now=timezone.now())
    response = give(api.as_(personas.investigator), "record", notice_version)
    assert response.status_code == 409
    assert response.json()["current_notice_version"] == notice_version + 1
    assert not ConsentState.objects.filter(record=True).exists()
    assert give(api.as_(personas.investigator), "record", notice_version + 1).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"choice": "everything", "given": True, "notice_version": 1},
        {"choice": "record"},
        {"choice": "record", "given": "perhaps", "notice_version": 1},
        {"choice": "record", "given": True, "notice_version": 0},
    ],
)
def test_malformed_choices_are_400_with_field_messages(api, personas, body):
    response = api.as_(personas.investigator).post("/api/v1/consents/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not ConsentChange.objects.exists()


def test_giving_twice_is_a_clear_conflict(api, personas, notice_version):
    client = api.as_(personas.investigator)
    give(client, "record", notice_version)
    response = give(client, "record", notice_version)
    assert response.status_code == 409
    assert ConsentChange.objects.count() == 1


def test_exclusions_name_only_officers_who_cover_the_person(api, personas):
    client = api.as_(personas.investigator)
    listed = client.get("/api/v1/consents/exclusions/").json()
    assert {o["id"] for o in listed["excludable"]} == {
        str(personas.welfare_officer.public_id),
        str(personas.lead.public_id),
    }
    refused = client.post(
        "/api/v1/consents/exclusions/", {"officer": str(personas.other_welfare_officer.public_id)}, format="json"
    )
    assert refused.status_code == 400
    added = client.post(
        "/api/v1/consents/exclusions/", {"officer": str(personas.welfare_officer.public_id)}, format="json"
    )
    assert added.status_code == 201
    exclusion_id = added.json()["exclusions"][0]["id"]
    assert client.delete(f"/api/v1/consents/exclusions/{exclusion_id}/").status_code == 204
    actions = list(AuditEntry.objects.filter(action__startswith="consent.exclusion").values_list("action", flat=True))
    assert sorted(actions) == ["consent.exclusion.added", "consent.exclusion.removed"]


def test_a_person_cannot_remove_someone_elses_exclusion(api, personas):
    from backend.consent.services import exclusion_add

    exclusion = exclusion_add(person=personas.teammate, officer=personas.welfare_officer, now=timezone.now())
    response = api.as_(personas.investigator).delete(f"/api/v1/consents/exclusions/{exclusion.public_id}/")
    assert response.status_code == 404
    assert exclusion.__class__.objects.filter(pk=exclusion.pk).exists()


def test_choices_page_gives_and_withdraws_with_one_button_each(client, personas, notice_version):
    client.force_login(personas.investigator)
    client.post("/choices/", {"action": "give", "choice": "record", "notice_version": notice_version})
    client.post("/choices/", {"action": "give", "choice": "welfare", "notice_version": notice_version})
    assert ConsentState.objects.get(person=personas.investigator).welfare
    client.post("/choices/", {"action": "withdraw", "choice": "welfare"})
    state = ConsentState.objects.get(person=personas.investigator)
    assert state.record and not state.welfare
    page = client.get("/choices/").content.decode()
    assert "Withdraw record" in page and "Give welfare" in page
    assert ConsentChange.objects.filter(channel="web").count() == 3


def test_choices_page_explains_the_wrong_order(client, personas, notice_version):
    client.force_login(personas.investigator)
    response = client.post(
        "/choices/", {"action": "give", "choice": "welfare", "notice_version": notice_version}, follow=True
    )
    assert "choose &#x27;record&#x27; first" in response.content.decode()


def test_seeded_personas_have_the_promised_choices():
    from datetime import date

    from backend.consent.selectors import choices_of
    from backend.demo.seed import seed_organisation
    from backend.organisation.models import Person

    seed_organisation(people=40, days=30, seed=3, today=date(2026, 11, 1), password="x" * 16)
    assert choices_of(Person.objects.get(username="demo-investigator")).__dict__ == {
        "record": True,
        "welfare": True,
        "rota_signal": True,
    }
    assert choices_of(Person.objects.get(username="demo-private")).__dict__ == {
        "record": True,
        "welfare": False,
        "rota_signal": False,
    }


def test_choose_helper_gives_in_order(personas):
    choose(personas.investigator, "record", "welfare")
    assert ConsentState.objects.get(person=personas.investigator).welfare


def test_reaching_for_someone_elses_exclusion_is_audited(api, personas):
    from backend.consent.services import exclusion_add

    exclusion = exclusion_add(person=personas.teammate, officer=personas.welfare_officer, now=timezone.now())
    api.as_(personas.investigator).delete(f"/api/v1/consents/exclusions/{exclusion.public_id}/")
    entry = AuditEntry.objects.get(action="consent.exclusion.refused")
    assert entry.subject_id == personas.teammate.public_id and entry.actor_id == personas.investigator.public_id


def test_administrators_publish_notices_as_new_versions_never_edits(client, personas):
    client.force_login(personas.admin)
    response = client.post("/admin/consent/notice/add/", {"text": "Version two of the notice."})
    assert response.status_code == 302
    newest = Notice.objects.order_by("-version").first()
    assert newest.version == 2 and newest.text_hash == Notice.hash_of("Version two of the notice.")
    assert client.get(f"/admin/consent/notice/{newest.pk}/change/").status_code in (200, 403)
    response = client.post(f"/admin/consent/notice/{newest.pk}/change/", {"text": "sneaky edit"})
    newest.refresh_from_db()
    assert newest.text == "Version two of the notice."
    assert client.post(f"/admin/consent/notice/{newest.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(action="consent.notice.published").exists()
