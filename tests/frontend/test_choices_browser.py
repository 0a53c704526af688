"""The firewall as people meet it: a withdrawal on the choices page, and the welfare officer's very next
page load no longer shows the person."""

from datetime import date

import pytest

from backend.demo.seed import seed_organisation
from tests.browser import ConsoleWatch, assert_accessible, sign_in
from tests.conftest import restore_reference_data

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"


@pytest.fixture
def demo_org(transactional_db):  # type: ignore[no-untyped-def]
    restore_reference_data()  # transactional tests flush what migrations created
    seed_organisation(people=60, days=30, seed=7, today=date(2026, 11, 1), password=PASSWORD)


def test_withdrawal_on_the_page_removes_the_person_from_the_welfare_officers_next_page_load(
    demo_org, live_server, browser
):
    person_page = browser.new_context().new_page()
    welfare_page = browser.new_context().new_page()
    person_watch, welfare_watch = ConsoleWatch().attach(person_page), ConsoleWatch().attach(welfare_page)

    sign_in(welfare_page, live_server.url, "demo-welfare", PASSWORD)
    welfare_page.goto(f"{live_server.url}/people/")
    record_link = welfare_page.get_by_role("link", name="open the record of Dana Investigator")
    assert record_link.is_visible()
    record_link.click()
    assert welfare_page.get_by_role("heading", name="Dana Investigator").is_visible()

    sign_in(person_page, live_server.url, "demo-investigator", PASSWORD)
    person_page.goto(f"{live_server.url}/choices/")
    assert_accessible(person_page)
    person_page.get_by_role("button", name="Withdraw welfare").click()
    person_page.wait_for_load_state("networkidle")
    assert person_page.locator('tr[data-choice="welfare"] .choice-state').inner_text() == "Not given"
    assert person_page.get_by_role("button", name="Give welfare").is_visible()

    welfare_page.goto(f"{live_server.url}/people/")
    assert welfare_page.get_by_role("link", name="open the record of Dana Investigator").count() == 0
    assert welfare_page.locator("ul.people li").count() >= 1  # the page did load, with others still listed

    person_page.goto(f"{live_server.url}/access-log/")
    assert person_page.get_by_text("Wendy Welfare").first.is_visible()
    assert_accessible(person_page)
    person_watch.assert_clean()
    welfare_watch.assert_clean()


@pytest.mark.parametrize(
    ("username", "path"), [("demo-welfare", "/people/"), ("demo-dpo", "/audit/"), ("demo-admin", "/audit/")]
)
def test_firewall_pages_are_accessible_and_obey_the_csp(demo_org, live_server, page, username, path):
    watch = ConsoleWatch().attach(page)
    sign_in(page, live_server.url, username, PASSWORD)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).is_visible()
    assert_accessible(page)
    watch.assert_clean()
