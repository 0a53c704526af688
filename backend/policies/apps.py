from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "backend.policies"
    label = "policies"
    verbose_name = "Policies"
