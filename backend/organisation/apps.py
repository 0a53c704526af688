from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    name = "backend.organisation"
    label = "organisation"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from backend.organisation import schema  # noqa: F401 - registers the OpenAPI auth schemes
        from backend.organisation.middleware import start_session_clock

        user_logged_in.connect(start_session_clock, dispatch_uid="keel-session-clock")
