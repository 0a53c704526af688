from django.urls import path

from backend.policies import api

urlpatterns = [
    path("policies/", api.PolicyListApi.as_view(), name="api-policies"),
    path("policies/<uuid:unit_id>/", api.PolicyDetailApi.as_view(), name="api-policy-detail"),
    path("policies/<uuid:unit_id>/history/", api.PolicyHistoryApi.as_view(), name="api-policy-history"),
]
