from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.organisation.models import Organisation, Role, RoleAssignment
from backend.organisation.selectors import exposed_tenure, roles_of
from tests.factories import MembershipFactory, PersonFactory, TeamFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_a_default_organisation_row_exists_after_migrations():
    org = Organisation.objects.get()
    assert org.time_zone == "Europe/London" and org.min_group_size == 5


def test_only_one_organisation_per_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="Second")


def test_k_cannot_go_below_five():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.update(min_group_size=4)


@pytest.mark.parametrize(
    ("role", "scope", "ok"),
    [
        (Role.WELFARE_OFFICER, "unit", True),
        (Role.WELFARE_OFFICER, "team", False),
        (Role.WELFARE_OFFICER, None, False),
        (Role.CLINICIAN, "unit", True),
        (Role.MANAGER, "team", True),
        (Role.MANAGER, "unit", False),
        (Role.WELFARE_LEAD, None, True),
        (Role.WELFARE_LEAD, "unit", False),
        (Role.DPO, None, True),
        (Role.ADMINISTRATOR, None, True),
        (Role.INVESTIGATOR, None, True),
    ],
)
def test_roles_are_scoped_where_they_apply(role, scope, ok):
    team = TeamFactory()
    kwargs = {"unit": team.unit} if scope == "unit" else {"team": team} if scope == "team" else {}
    if ok:
        RoleAssignment.objects.create(person=PersonFactory(), role=role, **kwargs)
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            RoleAssignment.objects.create(person=PersonFactory(), role=role, **kwargs)


def test_a_person_can_hold_several_roles_but_not_the_same_one_twice():
    person, team = PersonFactory(), TeamFactory()
    RoleAssignment.objects.create(person=person, role=Role.MANAGER, team=team)
    RoleAssignment.objects.create(person=person, role=Role.INVESTIGATOR)
    assert {r.role for r in roles_of(person)} == {"manager", "investigator"}
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(person=person, role=Role.INVESTIGATOR)


def test_tenure_counts_only_exposed_units_and_overlaps_once():
    person = PersonFactory()
    exposed, quiet = TeamFactory(unit=UnitFactory(exposed_role=True)), TeamFactory(unit=UnitFactory(exposed_role=False))
    MembershipFactory(person=person, team=exposed, started_on=date(2020, 1, 1), ended_on=date(2020, 12, 31))
    MembershipFactory(
        person=person, team=TeamFactory(unit=exposed.unit), started_on=date(2020, 6, 1), ended_on=date(2021, 1, 31)
    )
    MembershipFactory(person=person, team=quiet, started_on=date(2021, 2, 1))
    assert exposed_tenure(person, on=date(2022, 1, 1)).days == 366 + 31


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=2000), st.integers(min_value=0, max_value=400), st.booleans()),
        min_size=1,
        max_size=5,
    )
)
def test_tenure_equals_the_number_of_distinct_days_in_exposed_teams(spans):
    start = date(2018, 1, 1)
    on = start + timedelta(days=2100)
    with transaction.atomic():
        person = PersonFactory()
        days: set[date] = set()
        for offset, length, open_ended in spans:
            began = start + timedelta(days=offset)
            ended = None if open_ended else began + timedelta(days=length)
            MembershipFactory(person=person, team=TeamFactory(), started_on=began, ended_on=ended)
            last = min(ended or on, on)
            days |= {began + timedelta(days=i) for i in range((last - began).days + 1)}
        assert exposed_tenure(person, on=on).days == len(days)
        transaction.set_rollback(True)
