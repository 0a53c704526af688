from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "backend.alerts"
    label = "alerts"

    def ready(self) -> None:
        from backend.alerts.engine import autodiscover

        autodiscover()
