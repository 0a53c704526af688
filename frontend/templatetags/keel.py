from typing import Any

from django import template

register = template.Library()


@register.filter
def attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, "")


@register.filter
def humanize_field(name: str) -> str:
    return name.replace("_", " ").capitalize()
