from importlib import import_module

from django.apps import apps

from backend.common.privacy_spec import PersonalData

_registry: dict[str, PersonalData] = {}


def register(spec: PersonalData) -> None:
    if spec.erase is None and not spec.kept_because:
        raise ValueError(f"{spec.name}: say why the rows are kept when the record is erased.")
    _registry[spec.name] = spec


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered() -> list[PersonalData]:
    return sorted(_registry.values(), key=lambda spec: spec.name)


def autodiscover() -> None:
    """Imports ``personal_data`` from every Keel app and registers what it declares."""
    for config in apps.get_app_configs():
        if not config.name.startswith("backend."):
            continue
        try:
            module = import_module(f"{config.name}.personal_data")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.personal_data":
                raise
            continue
        for spec in module.PERSONAL_DATA:
            register(spec)
