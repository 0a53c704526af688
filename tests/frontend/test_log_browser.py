"""The investigator's logging page in headless Chromium: the end-of-shift form by keyboard, the timer, this
week's chart and table, accessibility and the CSP, and the page for someone who has not chosen `record`."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import expect

from backend.exposure.periods import local_date, week_start
from tests.browser import ConsoleWatch, assert_accessible, sign_in
from tests.conftest import restore_reference_data

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-password"
WEEK_TOTAL = "#week-total"
CHART_SUM = "() => document.getElementById('week-chart').data[0].y.reduce((a, b) => a + b, 0)"
CHART_BAR = "(label) => { const t = document.getElementById('week-chart').data[0]; return t.y[t.x.indexOf(label)]; }"


@pytest.fixture
def demo_org(transactional_db: Any) -> None:
    """Transactional tests flush what migrations created (the organisation, the notice, the severity taxonomy
    and weights): put it back, then seed the people."""
    from backend.demo.seed import seed_organisation
    from backend.exposure.selectors import organisation_tz

    restore_reference_data()
    # The seeded history ends last Sunday: this week starts empty, last week's records are still editable.
    last_sunday = week_start(local_date(timezone.now(), organisation_tz())) - timedelta(days=1)
    seed_organisation(people=60, days=30, seed=7, today=last_sunday, password=PASSWORD)


def person(username: str) -> Any:
    from backend.organisation.models import Person

    return Person.objects.get(username=username)


def week_total(page: Any) -> float:
    return float(page.locator(WEEK_TOTAL).inner_text())


def open_log(page: Any, base_url: str, username: str = "demo-investigator") -> ConsoleWatch:
    watch = ConsoleWatch().attach(page)
    sign_in(page, base_url, username, PASSWORD)
    page.goto(f"{base_url}/log/")
    page.wait_for_load_state("networkidle")
    return watch


def wait_for_chart(page: Any) -> None:
    # Playwright's string predicates are evaluated with eval, which the CSP refuses: wait on the DOM instead.
    expect(page.locator("#week-chart .main-svg").first).to_be_visible()


def wait_for_timer(page: Any, text: str) -> None:
    expect(page.locator("#timer-state")).to_have_text(text)


def arrow_to(page: Any, value: str) -> None:
    """Arrow keys move through a radio group, checking as they go."""
    for _ in range(8):
        if page.evaluate("document.activeElement.value") == value:
            break
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.checked && document.activeElement.value") == value


def space_to(page: Any, checked: bool) -> None:
    if page.evaluate("document.activeElement.checked") != checked:
        page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") == checked


def test_the_end_of_shift_form_by_keyboard_adds_exactly_its_minutes_to_the_week(demo_org, live_server, page):
    from backend.exposure.models import ExposureRecord

    watch = open_log(page, live_server.url)
    wait_for_chart(page)
    before = week_total(page)
    assert page.evaluate(CHART_SUM) == before

    # Pre-filled from the usual pattern and today: change what differs using the keyboard only.
    page.locator("#f-minutes").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("37")
    page.keyboard.press("Tab")  # into the kind of material: focus lands on the checked radio
    arrow_to(page, "video")
    page.keyboard.press("Tab")  # severity
    arrow_to(page, "other")
    for wanted in (True, False, True, False, True, False):  # audio, unexpected, got to me, greyscale, blur, muted
        page.keyboard.press("Tab")
        space_to(page, wanted)
    page.keyboard.press("Tab")  # items
    page.keyboard.type("12")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Log my day"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")

    assert page.get_by_text("Logged 37 minutes").is_visible()
    assert week_total(page) == before + 37
    assert page.locator('#week-table tr[data-media="video"] [data-minutes]').inner_text() == "37"
    wait_for_chart(page)
    assert page.evaluate(CHART_SUM) == before + 37
    assert page.evaluate(CHART_BAR, "Video") == 37
    record = ExposureRecord.objects.get(person=person("demo-investigator"), source="web")
    assert (record.source, record.seconds, record.media_type, record.severity) == ("web", 37 * 60, "video", "other")
    assert (record.audio, record.unexpected, record.got_to_me) == (True, False, True)
    assert (record.safeguards, record.items) == (["blur"], 12)
    assert page.locator(f'li[data-record="{record.public_id}"]').is_visible()
    watch.assert_clean()


def test_the_timer_starts_pauses_resumes_and_stops_and_the_week_shows_the_session(demo_org, live_server, page):
    from backend.exposure.models import ExposureRecord, Timer

    watch = open_log(page, live_server.url)
    wait_for_chart(page)
    state = page.locator("#timer-state")
    assert state.inner_text() == "Not running"
    before_text = page.locator(WEEK_TOTAL).inner_text()
    before = float(before_text)

    page.locator("#t-media").select_option("live")
    page.locator("#timer-start-button").focus()
    page.keyboard.press("Enter")
    wait_for_timer(page, "Running")
    assert page.evaluate("document.activeElement.id") == "timer-pause"  # focus stays in the timer
    assert page.locator("#timer-what").inner_text().startswith("Live stream, ")
    # Twelve minutes of running, without waiting twelve minutes.
    Timer.objects.filter(person=person("demo-investigator")).update(started_at=F("started_at") - timedelta(minutes=12))

    page.keyboard.press("Enter")  # pause
    wait_for_timer(page, "Paused")
    page.wait_for_timeout(1200)
    page.keyboard.press("Enter")  # focus moved to resume
    wait_for_timer(page, "Running")
    assert page.locator("#timer-elapsed").inner_text().startswith("0:12:")
    page.get_by_role("button", name="Stop and save").click()
    expect(page.locator("#timer-status")).to_contain_text("Saved")
    expect(page.locator(WEEK_TOTAL)).not_to_have_text(before_text)  # re-fetched from summary/?period=week

    record = ExposureRecord.objects.get(person=person("demo-investigator"), source="timer")
    assert (record.kind, record.source, record.media_type) == ("session", "timer", "live")
    assert 12 * 60 <= record.seconds < 13 * 60  # paused time excluded
    added = round(record.seconds / 60, 1)
    assert week_total(page) == pytest.approx(before + added)
    assert page.evaluate(CHART_SUM) == pytest.approx(before + added)
    assert page.evaluate(CHART_BAR, "Live stream") == pytest.approx(added)
    assert state.inner_text() == "Not running"
    assert page.locator(f'li[data-record="{record.public_id}"]').is_visible()  # the recent list was refreshed
    assert not Timer.objects.exists()
    watch.assert_clean()


def test_a_break_reminder_appears_in_the_page_and_can_be_snoozed(demo_org, live_server, page):
    from backend.exposure.models import Preference, Timer

    watch = open_log(page, live_server.url)
    page.locator("#p-after").fill("10")
    page.locator("#p-after").dispatch_event("change")
    page.get_by_label("Remind me to take a break while the timer runs").check()
    expect(page.locator("#prefs-status")).to_contain_text("after 10 minutes")
    preference = Preference.objects.get(person=person("demo-investigator"))
    assert (preference.break_reminders, preference.break_after_minutes) == (True, 10)

    page.get_by_role("button", name="Start timer").click()
    wait_for_timer(page, "Running")
    assert page.locator("#break-reminder").inner_text() == ""
    Timer.objects.filter(person=person("demo-investigator")).update(started_at=F("started_at") - timedelta(minutes=11))
    page.reload()
    reminder = page.locator("#break-reminder")
    assert reminder.get_attribute("aria-live") == "polite"
    expect(reminder).to_contain_text("Time for a break?")
    assert_accessible(page)
    page.get_by_role("button", name="Snooze 10 minutes").click()
    assert reminder.inner_text() == ""
    page.wait_for_timeout(1500)  # the clock keeps ticking; the snoozed reminder stays away
    assert reminder.inner_text() == ""
    watch.assert_clean()


@pytest.mark.parametrize("size", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_the_page_is_accessible_and_obeys_the_csp_on_wide_and_narrow_screens(demo_org, live_server, page, size):
    page.set_viewport_size(size)
    watch = open_log(page, live_server.url)
    wait_for_chart(page)
    expect(page.locator("#timer-start")).to_be_visible()  # the script ran and showed the timer
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]  # nothing sideways

    page.locator("#f-minutes").fill("0")  # a rejected form: the error summary and field errors
    page.get_by_role("button", name="Log my day").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#err-minutes").is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    watch.assert_clean()


def test_someone_without_the_record_choice_sees_why_and_where_to_give_it(demo_org, live_server, page):
    from backend.consent.services import choice_set

    choice_set(person=person("demo-private"), choice="record", given=False, channel="web", now=timezone.now())
    watch = open_log(page, live_server.url, "demo-private")
    assert page.get_by_role("heading", name="Nothing is kept about you yet").is_visible()
    link = page.get_by_role("link", name="Go to My choices")
    assert link.get_attribute("href") == "/choices/"
    assert page.locator("#day-form").count() == 0
    assert page.locator("#timer").count() == 0
    assert_accessible(page)
    link.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/choices/")
    watch.assert_clean()
