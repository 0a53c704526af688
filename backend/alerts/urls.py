from django.urls import path

from backend.alerts import api

urlpatterns = [path("alerts/", api.AlertListApi.as_view(), name="api-alerts")]
