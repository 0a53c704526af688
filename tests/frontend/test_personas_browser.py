"""Every demo persona signs in through the real login page and lands on their role's home page."""

from datetime import date

import pytest

from backend.demo.seed import PERSONAS, seed_organisation
from tests.browser import ConsoleWatch, assert_accessible, sign_in
from tests.conftest import restore_reference_data

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"

HOME_SECTION = {
    "demo-investigator": "investigator",
    "demo-private": "investigator",
    "demo-welfare": "welfare_officer",
    "demo-clinician": "clinician",
    "demo-lead": "welfare_lead",
    "demo-manager": "manager",
    "demo-dpo": "dpo",
    "demo-admin": "administrator",
}


@pytest.fixture
def demo_org(transactional_db):  # type: ignore[no-untyped-def]
    restore_reference_data()  # transactional tests flush what migrations created
    seed_organisation(people=60, days=30, seed=7, today=date(2026, 11, 1), password=PASSWORD)


def test_every_persona_signs_in_and_sees_their_home_page(demo_org, live_server, page):
    assert set(HOME_SECTION) == set(PERSONAS)
    for username, section in HOME_SECTION.items():
        page.context.clear_cookies()
        watch = ConsoleWatch().attach(page)
        sign_in(page, live_server.url, username, PASSWORD)
        assert page.url.rstrip("/") == live_server.url, f"{username} was not signed in"
        assert page.locator(f'[data-home="{section}"]').is_visible(), f"{username} does not see the {section} home"
        assert page.get_by_role("link", name="Get support now").is_visible()
        assert_accessible(page)
        watch.assert_clean()


@pytest.mark.parametrize("path", ["/login/", "/support/", "/account/", "/api/docs/"])
def test_pages_have_no_csp_violations_or_serious_accessibility_problems(demo_org, live_server, page, path):
    watch = ConsoleWatch().attach(page)
    sign_in(page, live_server.url, "demo-investigator", PASSWORD)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    if path != "/api/docs/":  # Swagger UI is a third-party developer tool, not a page for staff
        assert_accessible(page)
    watch.assert_clean()


@pytest.mark.parametrize("path", ["/admin/", "/admin/organisation/unit/", "/admin/organisation/person/"])
def test_configuration_pages_obey_the_csp_and_are_accessible(demo_org, live_server, page, path):
    watch = ConsoleWatch().attach(page)
    sign_in(page, live_server.url, "demo-admin", PASSWORD)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading").first.is_visible()
    assert_accessible(page)
    watch.assert_clean()


def test_wrong_password_keeps_the_person_out(demo_org, live_server, page):
    sign_in(page, live_server.url, "demo-investigator", "not-the-password")
    assert "/login/" in page.url
    assert page.get_by_role("alert").is_visible()


def test_sign_out_ends_the_session(demo_org, live_server, page):
    sign_in(page, live_server.url, "demo-manager", PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/account/")
    assert "/login/" in page.url
