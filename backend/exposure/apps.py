from django.apps import AppConfig


class ExposureConfig(AppConfig):
    name = "backend.exposure"
    label = "exposure"
    verbose_name = "Exposure"
