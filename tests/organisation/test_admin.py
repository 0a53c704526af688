import pytest

pytestmark = pytest.mark.django_db


def test_administrator_reaches_configuration(client, personas):
    client.force_login(personas.admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/organisation/unit/").status_code == 200
    page = client.get(f"/admin/organisation/person/{personas.investigator.pk}/change/")
    assert page.status_code == 200


@pytest.mark.parametrize("who", ["investigator", "manager", "welfare_officer", "lead", "dpo", "clinician"])
def test_nobody_else_reaches_configuration(client, personas, who):
    person = getattr(personas, who)
    person.is_staff = True  # even a staff flag set by mistake does not open it
    person.save()
    client.force_login(person)
    assert client.get("/admin/organisation/unit/").status_code in (302, 403)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
