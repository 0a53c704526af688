from django.urls import path

from backend.privacy import api, audit_api

urlpatterns = [
    path("me/erasure/", api.ErasureApi.as_view(), name="api-erasure"),
    path("people/supported/", api.SupportedPeopleApi.as_view(), name="api-people-supported"),
    path("people/<uuid:person_id>/record/", api.PersonRecordApi.as_view(), name="api-person-record"),
    path("me/access-log/", audit_api.AccessLogApi.as_view(), name="api-access-log"),
    path("audit/entries/", audit_api.AuditEntriesApi.as_view(), name="api-audit-entries"),
    path("audit/entries/export/", audit_api.AuditExportApi.as_view(), name="api-audit-export"),
    path("audit/withholdings/", audit_api.WithholdingApi.as_view(), name="api-audit-withholdings"),
]
