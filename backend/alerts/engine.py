"""The generic rule engine. Apps register the rules over their own data (``<app>/rules.py``); event rules
fire inside the transaction that writes their cause, so an alert exists exactly when its cause does."""

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps


@dataclass(frozen=True)
class Rule:
    code: str  # "<app>.<what>"
    severity: str  # urgent, high or normal
    title: str  # neutral words, safe for a handler's queue; never figures
    person_message: str = ""  # a private nudge to the person, when the rule gives one
    alerts_welfare: bool = True  # with the `welfare` choice, an alert to a welfare officer too
    books_checkin: bool = False  # a check-in for the person
    names_person_always: bool = False  # e.g. "Get support now": the person asked to be contacted


_rules: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.severity not in ("urgent", "high", "normal"):
        raise ValueError(f"{rule.code}: severity must be urgent, high or normal.")
    _rules[rule.code] = rule
    return rule


def rule(code: str) -> Rule:
    try:
        return _rules[code]
    except KeyError:
        raise LookupError(f"Unknown rule {code!r}.") from None


def registered() -> list[Rule]:
    return sorted(_rules.values(), key=lambda r: r.code)


def autodiscover() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("backend."):
            try:
                import_module(f"{config.name}.rules")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.rules":
                    raise
