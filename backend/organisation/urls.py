from django.urls import path

from backend.organisation import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("tokens/", api.TokenListApi.as_view(), name="api-tokens"),
    path("tokens/<uuid:token_id>/", api.TokenDetailApi.as_view(), name="api-token-detail"),
]
