from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Erasure, export, retention and record views across apps: a thin layer above them."""

    name = "backend.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from backend.privacy.registry import autodiscover

        autodiscover()
