"""Every Keel route, plus the baseline the logging benchmark compares against.

``bench/plain/sessions/`` is what a generic DRF create on the same table costs: the same middleware,
token authentication, scope permission and throttles, then a ModelSerializer that saves the posted
fields as they are (the client sends the local day, period starts, seconds and weighted exposure
precomputed). No consent check, no person lock, no overlap or day-total check, no rollups, no audit.
It exists only under bench settings and is never part of the product.
"""

from typing import Any

from django.urls import path
from django.utils import timezone
from rest_framework import generics, serializers

from backend.exposure.models import ExposureRecord, Source
from backend.organisation.models import TokenScope
from backend.urls import handler400, handler403, handler404, handler500
from backend.urls import urlpatterns as keel_urlpatterns


class PlainRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExposureRecord
        fields = [
            "public_id",
            "kind",
            "local_date",
            "week_start",
            "month_start",
            "quarter_start",
            "started_at",
            "ended_at",
            "seconds",
            "media_type",
            "severity",
            "audio",
            "unexpected",
            "got_to_me",
            "safeguards",
            "items",
            "dose_milli",
            "weights_version",
            "source",
            "needs_confirmation",
            "created_at",
        ]
        read_only_fields = ["public_id", "source", "needs_confirmation", "created_at"]


class PlainSessionCreateApi(generics.CreateAPIView):
    serializer_class = PlainRecordSerializer
    queryset = ExposureRecord.objects.none()
    token_scopes = {"POST": TokenScope.EXPOSURE_WRITE}

    def perform_create(self, serializer: Any) -> None:
        now = timezone.now()
        serializer.save(person=self.request.user, source=Source.API, created_at=now, updated_at=now)


urlpatterns = [
    path("bench/plain/sessions/", PlainSessionCreateApi.as_view(), name="bench-plain-sessions"),
    *keel_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
