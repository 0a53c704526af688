from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.errors import NotPermitted
from backend.common.middleware import request_id_of
from backend.consent.selectors import people_supported_by
from backend.organisation.models import Person
from backend.privacy.selectors import PURPOSES, person_record_for
from backend.privacy.services import ErasureRefused, record_erase


class ErasureApi(APIView):
    """After withdrawing `record`: erase the individual record (open alerts and referrals stay until closed)."""

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField()

        def validate_confirm(self, value: bool) -> bool:
            if not value:
                raise serializers.ValidationError("Set confirm to true to erase your record.")
            return value

    class OutputSerializer(serializers.Serializer):
        erased = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        try:
            counts = record_erase(person=request.user, now=timezone.now(), request_id=request_id_of(request))  # type: ignore[arg-type]
        except ErasureRefused as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(self.OutputSerializer({"erased": counts}).data)


class PersonSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class SupportedPeopleApi(APIView):
    """For welfare officers and the welfare lead: the people who chose to share with them."""

    @extend_schema(responses=PersonSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        people = people_supported_by(request.user, on=timezone.localdate())  # type: ignore[arg-type]
        return Response(PersonSummarySerializer(people, many=True).data)


class PersonRecordApi(APIView):
    """A person's record, for themselves or for welfare staff they chose. Every opening is audited."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        name = serializers.CharField()
        teams = serializers.ListField(child=serializers.CharField())
        exposed_tenure_days = serializers.IntegerField()
        choices = serializers.DictField(child=serializers.BooleanField())

    @extend_schema(
        parameters=[OpenApiParameter("purpose", str, enum=list(PURPOSES), description="Why the record is opened.")],
        responses=OutputSerializer,
    )
    def get(self, request: Request, person_id: str) -> Response:
        subject = get_object_or_404(Person, public_id=person_id)
        try:
            record = person_record_for(
                request.user,  # type: ignore[arg-type]
                subject,
                purpose=request.query_params.get("purpose", "review"),
                now=timezone.now(),
                request_id=request_id_of(request),
            )
        except ValueError as exc:
            raise exceptions.ValidationError({"purpose": [str(exc)]}) from exc
        except NotPermitted as exc:
            raise exceptions.NotFound() from exc  # say nothing about whether the person exists
        return Response(self.OutputSerializer(record).data)
