from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.middleware import request_id_of
from backend.consent.models import Channel, Choice, ConsentChange
from backend.consent.selectors import choices_of, excludable_officers, exclusions_of, history_of, notice_current
from backend.consent.services import (
    ChoiceError,
    StaleNoticeError,
    choice_set,
    exclusion_add,
    exclusion_remove,
    refuse_foreign_exclusion,
)
from backend.organisation.models import Person


class ChoiceProblem(exceptions.APIException):
    def __init__(self, error: ChoiceError) -> None:
        super().__init__(str(error), code=error.code)
        self.status_code = error.status
        self.default_code = error.code
        if isinstance(error, StaleNoticeError):
            self.problem_extra = {"current_notice_version": error.current_version}


class NoticeSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    text = serializers.CharField()
    text_hash = serializers.CharField()
    published_at = serializers.DateTimeField()


class ChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentChange
        fields = ["choice", "given", "at", "notice_version", "notice_hash", "channel"]


class ChoicesSerializer(serializers.Serializer):
    record = serializers.BooleanField()
    welfare = serializers.BooleanField()
    rota_signal = serializers.BooleanField()


class ConsentStateSerializer(serializers.Serializer):
    choices = ChoicesSerializer()
    notice = NoticeSerializer(allow_null=True)
    history = ChangeSerializer(many=True)


def _state(person: Person) -> dict[str, object]:
    return {"choices": choices_of(person), "notice": notice_current(), "history": history_of(person)}


class ConsentApi(APIView):
    """The caller's own sharing choices: read them with their history, give or withdraw one at a time."""

    class InputSerializer(serializers.Serializer):
        choice = serializers.ChoiceField(choices=Choice.choices)
        given = serializers.BooleanField()
        notice_version = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    class OutputSerializer(ConsentStateSerializer):
        changed = ChangeSerializer(many=True)
        erasure_offered = serializers.BooleanField()

    @extend_schema(responses=ConsentStateSerializer)
    def get(self, request: Request) -> Response:
        return Response(ConsentStateSerializer(_state(request.user)).data)  # type: ignore[arg-type]

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            outcome = choice_set(
                person=request.user,  # type: ignore[arg-type]
                channel=Channel.API,
                now=timezone.now(),
                request_id=request_id_of(request),
                **data.validated_data,
            )
        except ChoiceError as exc:
            raise ChoiceProblem(exc) from exc
        body = {**_state(request.user), "changed": outcome.changes, "erasure_offered": outcome.erasure_offered}  # type: ignore[arg-type]
        return Response(self.OutputSerializer(body).data)


class OfficerSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class ExclusionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    officer = OfficerSerializer()
    created_at = serializers.DateTimeField()


class ExclusionListApi(APIView):
    """Welfare officers the caller has excluded, and the ones they could exclude."""

    class InputSerializer(serializers.Serializer):
        officer = serializers.UUIDField()

    class OutputSerializer(serializers.Serializer):
        exclusions = ExclusionSerializer(many=True)
        excludable = OfficerSerializer(many=True)

    def _body(self, person: Person) -> dict[str, object]:
        return {"exclusions": exclusions_of(person), "excludable": excludable_officers(person, on=timezone.localdate())}

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(self._body(request.user)).data)  # type: ignore[arg-type]

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        officer = Person.objects.filter(public_id=data.validated_data["officer"]).first()
        try:
            if officer is None:
                raise ChoiceError("There is no such welfare officer.")
            exclusion_add(person=request.user, officer=officer, now=timezone.now(), request_id=request_id_of(request))  # type: ignore[arg-type]
        except ChoiceError as exc:
            raise exceptions.ValidationError({"officer": [str(exc)]}) from exc
        return Response(self.OutputSerializer(self._body(request.user)).data, status=201)  # type: ignore[arg-type]


class ExclusionDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, exclusion_id: str) -> Response:
        exclusion = exclusions_of(request.user).filter(public_id=exclusion_id).first()  # type: ignore[arg-type]
        if exclusion is None:
            refuse_foreign_exclusion(actor=request.user, exclusion_id=exclusion_id, request_id=request_id_of(request))  # type: ignore[arg-type]
        exclusion_remove(exclusion=exclusion, now=timezone.now(), request_id=request_id_of(request))
        return Response(status=204)
