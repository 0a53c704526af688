import hashlib
import json
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.middleware import request_id_of
from backend.common.problems import Conflict
from backend.exposure.models import ExposureRecord, MediaType, RecordKind, Safeguard, Source
from backend.exposure.periods import local_date
from backend.exposure.selectors import organisation_tz, own_summary, preference_of, records_of, severities, timer_of
from backend.exposure.services import (
    IdempotencyConflict,
    RecordInput,
    RecordRejected,
    TimerError,
    exposure_record_create,
    exposure_record_delete,
    exposure_record_update,
    exposure_records_create_batch,
    idempotent_call,
    preference_set,
    timer_pause,
    timer_resume,
    timer_start,
    timer_stop,
)
from backend.organisation.authentication import person_of
from backend.organisation.models import ApiToken, Person, TokenScope

MAX_BATCH = 500
WRITE = {"POST": TokenScope.EXPOSURE_WRITE}


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset; a naive time is refused rather than guessed."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None and parsed.tzinfo is None:
            raise serializers.ValidationError("Give the time with its offset, e.g. 2026-11-02T09:00:00+00:00.")
        return super().to_internal_value(value)


class AttributesSerializer(serializers.Serializer):
    media_type = serializers.ChoiceField(choices=MediaType.choices)
    severity = serializers.CharField(max_length=16)
    audio = serializers.BooleanField(default=False)
    unexpected = serializers.BooleanField(default=False)
    got_to_me = serializers.BooleanField(default=False)
    safeguards = serializers.ListField(
        child=serializers.ChoiceField(choices=Safeguard.choices), default=list, max_length=len(Safeguard.values)
    )
    items = serializers.IntegerField(min_value=0, max_value=100_000, required=False, allow_null=True)


class SessionInputSerializer(AttributesSerializer):
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField()


class DayEntryInputSerializer(AttributesSerializer):
    date = serializers.DateField()
    minutes = serializers.IntegerField(min_value=1, max_value=960)


class RecordOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    date = serializers.DateField(source="local_date")
    minutes = serializers.FloatField()
    dose = serializers.SerializerMethodField()

    class Meta:
        model = ExposureRecord
        fields = [
            "id",
            "kind",
            "date",
            "started_at",
            "ended_at",
            "minutes",
            "dose",
            "media_type",
            "severity",
            "audio",
            "unexpected",
            "got_to_me",
            "safeguards",
            "items",
            "source",
            "needs_confirmation",
            "created_at",
        ]

    def get_dose(self, record: ExposureRecord) -> float:
        return record.dose_milli / 1000


def _input(kind: str, data: dict[str, Any]) -> RecordInput:
    return RecordInput(kind=kind, **{**data, "safeguards": tuple(data.get("safeguards", ()))})


def _source(request: Request) -> str:
    return Source.TOKEN if isinstance(request.auth, ApiToken) else Source.API


def _rejected(exc: RecordRejected) -> exceptions.ValidationError:
    return exceptions.ValidationError(exc.errors)


def _respond_idempotently(request: Request, endpoint: str, perform: Any) -> Response:
    key = request.headers.get("Idempotency-Key")
    if not key:
        status, body = perform()
        return Response(body, status=status)
    if len(key) > 100:
        raise exceptions.ValidationError({"Idempotency-Key": ["At most 100 characters."]})
    digest = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
    try:
        status, body = idempotent_call(
            person=person_of(request),
            key=key,
            endpoint=endpoint,
            request_hash=digest,
            perform=perform,
            now=timezone.now(),
        )
    except IdempotencyConflict as exc:
        raise Conflict(str(exc)) from exc
    return Response(body, status=status)


class RecordFilter(filters.FilterSet):
    date_from = filters.DateFilter(field_name="local_date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="local_date", lookup_expr="lte")

    class Meta:
        model = ExposureRecord
        fields = ["date_from", "date_to"]


class _RecordListApi(GenericAPIView):
    kind: str
    input_serializer: type[AttributesSerializer]
    serializer_class = RecordOutputSerializer
    filterset_class = RecordFilter
    token_scopes = WRITE
    queryset = ExposureRecord.objects.none()

    def get_queryset(self) -> QuerySet[ExposureRecord]:
        return records_of(person_of(self.request)).filter(kind=self.kind)

    @extend_schema(responses=RecordOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RecordOutputSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        def perform() -> tuple[int, Any]:
            data = self.input_serializer(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                record = exposure_record_create(
                    person=person_of(request),
                    data=_input(self.kind, data.validated_data),
                    source=_source(request),
                    now=timezone.now(),
                )
            except RecordRejected as exc:
                raise _rejected(exc) from exc
            return 201, RecordOutputSerializer(record).data

        return _respond_idempotently(request, f"{self.kind}:create", perform)


class SessionListApi(_RecordListApi):
    """Your timed sessions: list them (your own only), or log one."""

    kind = RecordKind.SESSION
    input_serializer = SessionInputSerializer

    @extend_schema(
        request=SessionInputSerializer,
        responses={201: RecordOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class DayEntryListApi(_RecordListApi):
    """Your day entries (the end-of-shift form): list them, or log one."""

    kind = RecordKind.DAY
    input_serializer = DayEntryInputSerializer

    @extend_schema(
        request=DayEntryInputSerializer,
        responses={201: RecordOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class _RecordDetailApi(APIView):
    kind: str
    patch_serializer: type[serializers.Serializer]

    def _record(self, request: Request, record_id: str) -> ExposureRecord:
        return get_object_or_404(records_of(person_of(request)).filter(kind=self.kind), public_id=record_id)

    @extend_schema(responses=RecordOutputSerializer)
    def get(self, request: Request, record_id: str) -> Response:
        return Response(RecordOutputSerializer(self._record(request, record_id)).data)

    def patch(self, request: Request, record_id: str) -> Response:
        record = self._record(request, record_id)
        data = self.patch_serializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "safeguards" in changes:
            changes["safeguards"] = tuple(changes["safeguards"])
        try:
            record = exposure_record_update(
                person=person_of(request),
                record=record,
                changes=changes,
                now=timezone.now(),
                request_id=request_id_of(request),
            )
        except RecordRejected as exc:
            raise _rejected(exc) from exc
        return Response(RecordOutputSerializer(record).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, record_id: str) -> Response:
        record = self._record(request, record_id)
        try:
            exposure_record_delete(
                person=person_of(request), record=record, now=timezone.now(), request_id=request_id_of(request)
            )
        except RecordRejected as exc:
            raise _rejected(exc) from exc
        return Response(status=204)


class SessionPatchSerializer(SessionInputSerializer):
    confirmed = serializers.BooleanField(required=False, help_text="Confirm a session Keel closed at 16 hours.")


class DayEntryPatchSerializer(DayEntryInputSerializer):
    pass


class SessionDetailApi(_RecordDetailApi):
    """One of your timed sessions: change or delete it within 7 days (audited)."""

    kind = RecordKind.SESSION
    patch_serializer = SessionPatchSerializer

    @extend_schema(request=SessionPatchSerializer, responses=RecordOutputSerializer)
    def patch(self, request: Request, record_id: str) -> Response:
        return super().patch(request, record_id)


class DayEntryDetailApi(_RecordDetailApi):
    """One of your day entries: change or delete it within 7 days (audited)."""

    kind = RecordKind.DAY
    patch_serializer = DayEntryPatchSerializer

    @extend_schema(request=DayEntryPatchSerializer, responses=RecordOutputSerializer)
    def patch(self, request: Request, record_id: str) -> Response:
        return super().patch(request, record_id)


class BatchItemSerializer(AttributesSerializer):
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    started_at = AwareDateTimeField(required=False)
    ended_at = AwareDateTimeField(required=False)
    date = serializers.DateField(required=False)
    minutes = serializers.IntegerField(min_value=1, max_value=960, required=False)

    def validate_severity(self, value: str) -> str:
        # Checked here too so a batch names every bad row at once; single records rely on the service.
        codes = self.root.context.setdefault("severities", list(severities().values_list("code", flat=True)))
        if value not in codes:
            raise serializers.ValidationError(f"Unknown severity; use one of {', '.join(codes)}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needed = ("started_at", "ended_at") if attrs["kind"] == RecordKind.SESSION else ("date", "minutes")
        missing = {name: ["This field is required for this kind of record."] for name in needed if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class BatchApi(APIView):
    """Up to 500 records at once, atomically: one bad row rejects the batch and every bad row is named."""

    token_scopes = WRITE

    class InputSerializer(serializers.Serializer):
        records = serializers.ListField(child=BatchItemSerializer(), allow_empty=False, max_length=MAX_BATCH)

    class OutputSerializer(serializers.Serializer):
        records = RecordOutputSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request) -> Response:
        def perform() -> tuple[int, Any]:
            data = self.InputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            items = [_input(row.pop("kind"), row) for row in data.validated_data["records"]]
            try:
                created = exposure_records_create_batch(
                    person=person_of(request),
                    items=items,
                    source=_source(request),
                    now=timezone.now(),
                )
            except RecordRejected as exc:
                raise _rejected(exc) from exc
            return 201, self.OutputSerializer({"records": created}).data

        return _respond_idempotently(request, "batch:create", perform)


class TimerSerializer(serializers.Serializer):
    running = serializers.BooleanField()
    paused = serializers.BooleanField()
    started_at = serializers.DateTimeField(allow_null=True)
    active_seconds = serializers.IntegerField()
    media_type = serializers.CharField(allow_null=True)
    severity = serializers.CharField(allow_null=True)


def _timer_state(person: Person) -> dict[str, Any]:
    from backend.exposure.services import _active_seconds

    timer = timer_of(person)
    if timer is None:
        return {
            "running": False,
            "paused": False,
            "started_at": None,
            "active_seconds": 0,
            "media_type": None,
            "severity": None,
        }
    return {
        "running": True,
        "paused": timer.paused_at is not None,
        "started_at": timer.started_at,
        "active_seconds": _active_seconds(timer, timezone.now()),
        "media_type": timer.media_type,
        "severity": timer.severity,
    }


class TimerApi(APIView):
    """The optional live timer, kept on the server."""

    @extend_schema(responses=TimerSerializer)
    def get(self, request: Request) -> Response:
        return Response(TimerSerializer(_timer_state(person_of(request))).data)


class TimerActionApi(APIView):
    action: str

    def post(self, request: Request) -> Response:
        person = person_of(request)
        now = timezone.now()
        try:
            if self.action == "start":
                data = AttributesSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                timer_start(person=person, data=_input(RecordKind.SESSION, data.validated_data), now=now)
            elif self.action == "pause":
                timer_pause(person=person, now=now)
            elif self.action == "resume":
                timer_resume(person=person, now=now)
            else:
                record = timer_stop(person=person, now=now)
                return Response(RecordOutputSerializer(record).data, status=201)
        except TimerError as exc:
            raise Conflict(str(exc)) from exc
        except RecordRejected as exc:
            raise _rejected(exc) from exc
        return Response(TimerSerializer(_timer_state(person)).data)


class TimerStartApi(TimerActionApi):
    action = "start"

    @extend_schema(request=AttributesSerializer, responses=TimerSerializer)
    def post(self, request: Request) -> Response:
        return super().post(request)


class TimerPauseApi(TimerActionApi):
    action = "pause"

    @extend_schema(request=None, responses=TimerSerializer)
    def post(self, request: Request) -> Response:
        return super().post(request)


class TimerResumeApi(TimerActionApi):
    action = "resume"

    @extend_schema(request=None, responses=TimerSerializer)
    def post(self, request: Request) -> Response:
        return super().post(request)


class TimerStopApi(TimerActionApi):
    action = "stop"

    @extend_schema(request=None, responses={201: RecordOutputSerializer})
    def post(self, request: Request) -> Response:
        return super().post(request)


class SummaryApi(APIView):
    """Your minutes by kind of material against your limits, for today, this week or the last 28 days."""

    class OutputSerializer(serializers.Serializer):
        period = serializers.CharField()
        date_from = serializers.DateField(source="from")
        to = serializers.DateField()
        minutes = serializers.FloatField()
        dose = serializers.FloatField()
        by_media_type = serializers.DictField()
        limit_basis = serializers.CharField()
        limit_minutes = serializers.IntegerField(allow_null=True)
        early_warning_minutes = serializers.IntegerField(allow_null=True)
        over_early_warning = serializers.BooleanField()
        over_limit = serializers.BooleanField()
        limits_note = serializers.CharField()

    @extend_schema(
        parameters=[OpenApiParameter("period", str, enum=["day", "week", "28d"])], responses=OutputSerializer
    )
    def get(self, request: Request) -> Response:
        period = request.query_params.get("period", "week")
        if period not in ("day", "week", "28d"):
            raise exceptions.ValidationError({"period": ["Use day, week or 28d."]})
        summary = own_summary(person_of(request), period=period, today=local_date(timezone.now(), organisation_tz()))
        return Response(self.OutputSerializer(summary).data)


class SeverityListApi(APIView):
    """The organisation's severity taxonomy and media types, for forms and review tools."""

    class OutputSerializer(serializers.Serializer):
        severities = serializers.ListField(child=serializers.DictField())
        media_types = serializers.ListField(child=serializers.DictField())
        safeguards = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        body = {
            "severities": [{"code": s.code, "label": s.label} for s in severities()],
            "media_types": [{"code": v, "label": label} for v, label in MediaType.choices],
            "safeguards": [{"code": v, "label": label} for v, label in Safeguard.choices],
        }
        return Response(self.OutputSerializer(body).data)


class PreferenceApi(APIView):
    """Your logging preferences: break reminders while the timer runs."""

    class PreferenceSerializer(serializers.Serializer):
        break_reminders = serializers.BooleanField()
        break_after_minutes = serializers.IntegerField(min_value=10, max_value=240, default=50)

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.PreferenceSerializer(preference_of(person_of(request))).data)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request: Request) -> Response:
        data = self.PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = preference_set(person=person_of(request), **data.validated_data)
        return Response(self.PreferenceSerializer(preference).data)
