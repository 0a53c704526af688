from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.alerts import engine
from backend.alerts.models import Alert, AlertEvent, Notification, Outcome
from backend.alerts.selectors import alerts_visible_to, notifications_of, on_call_gaps, unread_count
from backend.alerts.services import alert_acknowledge, alert_assign, alert_close, alert_record_action, notification_read
from backend.common.errors import NotPermitted
from backend.organisation.authentication import person_of
from backend.organisation.models import Person, Role
from backend.organisation.selectors import has_role


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.name", default=None)
    to = serializers.CharField(source="to.name", default=None)

    class Meta:
        model = AlertEvent
        fields = ["at", "kind", "actor", "to", "outcome"]


class AlertSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    title = serializers.SerializerMethodField()
    person = serializers.SerializerMethodField()
    assignee = serializers.CharField(source="assignee.name", default=None)
    seconds_to_deadline = serializers.SerializerMethodField()
    events = EventSerializer(many=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "title",
            "severity",
            "state",
            "outcome",
            "person",
            "assignee",
            "created_at",
            "ack_due_at",
            "seconds_to_deadline",
            "acknowledged_at",
            "escalation_round",
            "breached",
            "raised_out_of_hours",
            "closed_at",
            "events",
        ]

    def get_title(self, alert: Alert) -> str:
        try:
            return engine.rule(alert.rule).title
        except LookupError:
            return alert.rule

    def get_person(self, alert: Alert) -> dict[str, str] | None:
        return {"id": str(alert.person.public_id), "name": alert.person.name} if alert.person else None

    def get_seconds_to_deadline(self, alert: Alert) -> int | None:
        if alert.ack_due_at is None or alert.acknowledged_at is not None:
            return None
        return int((alert.ack_due_at - timezone.now()).total_seconds())


class AlertListApi(GenericAPIView):
    """The work queue: alerts you handle (every alert for the welfare lead), most urgent first. An open alert
    stays with its handler until closed, whatever its subject later chooses."""

    serializer_class = AlertSerializer
    queryset = Alert.objects.none()

    @extend_schema(responses=AlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(alerts_visible_to(person_of(request)))
        return self.get_paginated_response(AlertSerializer(page, many=True).data)


def _alert(request: Request, alert_id: str) -> Alert:
    return get_object_or_404(alerts_visible_to(person_of(request)), public_id=alert_id)


class AlertActionApi(APIView):
    action: str

    class OutcomeSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Outcome.choices)

    class AssignSerializer(serializers.Serializer):
        to = serializers.UUIDField()

    def post(self, request: Request, alert_id: str) -> Response:
        alert, actor, now = _alert(request, alert_id), person_of(request), timezone.now()
        try:
            if self.action == "acknowledge":
                alert = alert_acknowledge(alert=alert, actor=actor, now=now)
            elif self.action == "assign":
                assignment = self.AssignSerializer(data=request.data)
                assignment.is_valid(raise_exception=True)
                to = Person.objects.filter(public_id=assignment.validated_data["to"]).first()
                if to is None:
                    raise exceptions.ValidationError({"to": ["No such person."]})
                alert = alert_assign(alert=alert, actor=actor, to=to, now=now)
            else:
                data = self.OutcomeSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                act = alert_record_action if self.action == "action" else alert_close
                alert = act(alert=alert, actor=actor, outcome=data.validated_data["outcome"], now=now)
        except ValueError as exc:
            field = {"assign": "to", "acknowledge": "non_field_errors"}.get(self.action, "outcome")
            raise exceptions.ValidationError({field: [str(exc)]}) from exc
        return Response(AlertSerializer(Alert.objects.select_related("person", "assignee").get(pk=alert.pk)).data)


class AlertAcknowledgeApi(AlertActionApi):
    action = "acknowledge"

    @extend_schema(request=None, responses=AlertSerializer)
    def post(self, request: Request, alert_id: str) -> Response:
        return super().post(request, alert_id)


class AlertAssignApi(AlertActionApi):
    action = "assign"

    @extend_schema(request=AlertActionApi.AssignSerializer, responses=AlertSerializer)
    def post(self, request: Request, alert_id: str) -> Response:
        return super().post(request, alert_id)


class AlertRecordActionApi(AlertActionApi):
    action = "action"

    @extend_schema(request=AlertActionApi.OutcomeSerializer, responses=AlertSerializer)
    def post(self, request: Request, alert_id: str) -> Response:
        return super().post(request, alert_id)


class AlertCloseApi(AlertActionApi):
    action = "close"

    @extend_schema(request=AlertActionApi.OutcomeSerializer, responses=AlertSerializer)
    def post(self, request: Request, alert_id: str) -> Response:
        return super().post(request, alert_id)


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read_at"]


class NotificationListApi(GenericAPIView):
    """Your in-app notifications, unread first. Polling with ``X-Keel-Background: 1`` keeps no session alive."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()

    class CountSerializer(serializers.Serializer):
        unread = serializers.IntegerField()

    @extend_schema(responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(notifications_of(person_of(request)))
        response = self.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread"] = unread_count(person_of(request))
        return response


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: str) -> Response:
        notification = get_object_or_404(notifications_of(person_of(request)), public_id=notification_id)
        return Response(NotificationSerializer(notification_read(notification=notification, now=timezone.now())).data)


class CoverageApi(APIView):
    """For the welfare lead: units where urgent alerts would find nobody on call out of hours this week."""

    class GapSerializer(serializers.Serializer):
        unit = serializers.CharField(source="unit.name")
        uncovered_hours = serializers.FloatField()

    @extend_schema(responses=GapSerializer(many=True))
    def get(self, request: Request) -> Response:
        if not has_role(person_of(request), Role.WELFARE_LEAD):
            raise NotPermitted("On-call coverage is for the welfare lead.")
        return Response(self.GapSerializer(on_call_gaps(now=timezone.now()), many=True).data)
