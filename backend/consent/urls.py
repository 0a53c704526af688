from django.urls import path

from backend.consent import api

urlpatterns = [
    path("consents/", api.ConsentApi.as_view(), name="api-consents"),
    path("consents/exclusions/", api.ExclusionListApi.as_view(), name="api-exclusions"),
    path("consents/exclusions/<uuid:exclusion_id>/", api.ExclusionDetailApi.as_view(), name="api-exclusion-detail"),
]
