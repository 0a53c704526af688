"""Helpers for browser tests: sign in, watch the console for errors and CSP violations, run axe-core."""

from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.sync_playwright import Axe

SERIOUS = {"serious", "critical"}
_axe = Axe()


@dataclass
class ConsoleWatch:
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> "ConsoleWatch":
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return self

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]

    def assert_clean(self) -> None:
        assert not self.csp_violations, f"CSP violations: {self.csp_violations}"
        assert not self.errors, f"console errors: {self.errors}"


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def assert_accessible(page: Any) -> None:
    results = _axe.run(page)
    serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not serious, "axe-core: " + "; ".join(f"{v['id']}: {v['help']}" for v in serious)
