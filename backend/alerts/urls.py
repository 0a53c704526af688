from django.urls import path

from backend.alerts import api

urlpatterns = [
    path("alerts/", api.AlertListApi.as_view(), name="api-alerts"),
    path("alerts/coverage/", api.CoverageApi.as_view(), name="api-alert-coverage"),
    path("alerts/<uuid:alert_id>/acknowledge/", api.AlertAcknowledgeApi.as_view(), name="api-alert-acknowledge"),
    path("alerts/<uuid:alert_id>/assign/", api.AlertAssignApi.as_view(), name="api-alert-assign"),
    path("alerts/<uuid:alert_id>/actions/", api.AlertRecordActionApi.as_view(), name="api-alert-action"),
    path("alerts/<uuid:alert_id>/close/", api.AlertCloseApi.as_view(), name="api-alert-close"),
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/<uuid:notification_id>/read/", api.NotificationReadApi.as_view(), name="api-notification-read"),
]
