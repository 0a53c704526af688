from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import log_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.KeelLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("account/tokens/<uuid:token_id>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("support/", views.support, name="support"),
    path("choices/", views.choices, name="choices"),
    path("access-log/", views.access_log, name="access-log"),
    path("people/", views.people, name="people"),
    path("people/<uuid:person_id>/", views.person_record, name="person-record"),
    path("audit/", views.audit_log, name="audit"),
    path("log/", log_views.log, name="log"),
    path("log/records/", log_views.records_fragment, name="log-records"),
    path("log/records/<uuid:record_id>/edit/", log_views.record_edit, name="log-record-edit"),
    path("log/records/<uuid:record_id>/delete/", log_views.record_delete, name="log-record-delete"),
    path("favicon.ico", views.favicon, name="favicon"),
]
