from django.urls import path

from backend.exposure import import_api

urlpatterns = [
    path("exposure/imports/", import_api.ImportListApi.as_view(), name="api-exposure-imports"),
    path("exposure/imports/<uuid:job_id>/", import_api.ImportDetailApi.as_view(), name="api-exposure-import-detail"),
]
