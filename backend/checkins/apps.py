from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "backend.checkins"
    label = "checkins"
    verbose_name = "Check-ins"
