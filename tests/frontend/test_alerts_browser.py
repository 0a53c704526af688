"""The welfare officer meets a new alert in the work queue, acknowledges it, records an action, closes it."""

from datetime import date

import pytest
from django.utils import timezone

from backend.alerts.models import Alert
from backend.demo.seed import seed_organisation
from backend.exposure.models import RecordKind
from backend.exposure.services import RecordInput, exposure_record_create
from backend.organisation.models import Person
from tests.browser import ConsoleWatch, assert_accessible, sign_in
from tests.conftest import restore_reference_data

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"


@pytest.fixture
def crossing(transactional_db):  # type: ignore[no-untyped-def]
    restore_reference_data()
    seed_organisation(people=40, days=0, seed=5, today=date(2026, 11, 1), password=PASSWORD)
    now = timezone.now()
    exposure_record_create(
        person=Person.objects.get(username="demo-investigator"),
        data=RecordInput(kind=RecordKind.DAY, media_type="video", severity="A", date=now.date(), minutes=300),
        source="api",
        now=now,
    )
    return Alert.objects.get(rule="exposure.daily_limit")


def test_the_welfare_officer_handles_an_alert_from_the_queue(crossing, live_server, page):
    assert crossing.assignee.username == "demo-welfare"
    watch = ConsoleWatch().attach(page)
    sign_in(page, live_server.url, "demo-welfare", PASSWORD)
    assert "unread" in page.locator(".bell").inner_text()
    page.get_by_role("link", name="Work queue").click()
    card = page.locator(f'[data-alert="{crossing.public_id}"]')
    assert "Daily limit passed" in card.inner_text() and "Dana Investigator" in card.inner_text()
    assert_accessible(page)

    card.get_by_role("button", name="Acknowledge").click()
    card = page.locator(f'[data-alert="{crossing.public_id}"]')
    assert card.locator(".alert-state").inner_text() == "Acknowledged"

    card.get_by_label("Action taken").select_option("contacted")
    card.get_by_role("button", name="Record action").click()
    card = page.locator(f'[data-alert="{crossing.public_id}"]')
    assert card.locator(".alert-state").inner_text() == "Action taken"

    card.get_by_label("Outcome").select_option("checkin_booked")
    card.get_by_role("button", name="Close").click()
    card = page.locator(f'[data-alert="{crossing.public_id}"]')
    assert card.locator(".alert-state").inner_text() == "Closed"
    crossing.refresh_from_db()
    assert (crossing.state, crossing.outcome) == ("closed", "checkin_booked")
    watch.assert_clean()


def test_notifications_page_is_accessible(crossing, live_server, page):
    watch = ConsoleWatch().attach(page)
    sign_in(page, live_server.url, "demo-investigator", PASSWORD)
    page.goto(f"{live_server.url}/notifications/")
    assert page.get_by_role("heading", name="You have passed today's exposure limit.").count() == 0
    assert page.get_by_text("You have passed today's exposure limit.").is_visible()
    assert_accessible(page)
    watch.assert_clean()
