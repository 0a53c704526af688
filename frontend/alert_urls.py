from django.urls import path

from frontend import alert_views, policy_views

urlpatterns = [
    path("alerts/", alert_views.work_queue, name="alerts"),
    path("alerts/<uuid:alert_id>/act/", alert_views.alert_act, name="alert-act"),
    path("notifications/", alert_views.notifications, name="notifications"),
    path("policies/", policy_views.policies, name="policies"),
]
