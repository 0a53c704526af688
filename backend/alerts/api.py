from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from backend.alerts.models import Alert
from backend.alerts.selectors import alerts_handled_by


class AlertSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    person = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = ["id", "rule", "severity", "state", "outcome", "created_at", "closed_at", "person"]

    def get_person(self, alert: Alert) -> dict[str, str] | None:
        return {"id": str(alert.person.public_id), "name": alert.person.name} if alert.person else None


class AlertListApi(GenericAPIView):
    """Alerts the caller handles. An open alert stays here until closed, whatever its subject later chooses."""

    serializer_class = AlertSerializer
    queryset = Alert.objects.none()

    @extend_schema(responses=AlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(alerts_handled_by(request.user))  # type: ignore[arg-type]
        return self.get_paginated_response(AlertSerializer(page, many=True).data)
