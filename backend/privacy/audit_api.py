import csv
import io
import uuid

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit import services as audit
from backend.audit.models import AuditEntry
from backend.common.errors import NotPermitted
from backend.common.middleware import request_id_of
from backend.organisation.models import Person, Role
from backend.organisation.selectors import has_role
from backend.privacy.audit_log import access_log_for, audit_entries_for, audit_view_kind, entry_rows


class AccessLogEntrySerializer(serializers.Serializer):
    withheld = serializers.BooleanField()
    at = serializers.DateTimeField(allow_null=True)
    who = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    what = serializers.CharField(allow_null=True)
    why = serializers.CharField(allow_null=True)


class AccessLogApi(GenericAPIView):
    """Who looked at my data: every entry where I am the subject and someone else acted."""

    serializer_class = AccessLogEntrySerializer
    queryset = AuditEntry.objects.none()

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(access_log_for(request.user))  # type: ignore[arg-type,var-annotated]
        return self.get_paginated_response(AccessLogEntrySerializer(page, many=True).data)


FILTERS = [
    OpenApiParameter("actor", uuid.UUID, description="Public id of the person who acted."),
    OpenApiParameter("subject", uuid.UUID, description="Public id of the person whose data it was."),
]


class FilterSerializer(serializers.Serializer):
    actor = serializers.UUIDField(required=False)
    subject = serializers.UUIDField(required=False)


class NeutralEntrySerializer(serializers.Serializer):
    """What an administrator sees: when, which role, a neutral kind of action, the outcome."""

    at = serializers.DateTimeField()
    actor_role = serializers.CharField()
    action = serializers.CharField()
    outcome = serializers.CharField()


class AuditEntrySerializer(NeutralEntrySerializer):
    id = serializers.UUIDField()
    actor = serializers.UUIDField(allow_null=True)
    actor_name = serializers.CharField(allow_null=True)
    subject = serializers.UUIDField(allow_null=True)
    subject_name = serializers.CharField(allow_null=True)
    object = serializers.CharField()
    purpose = serializers.CharField()
    request_id = serializers.CharField()


def _filtered(request: Request) -> tuple[Person, dict[str, uuid.UUID]]:
    filters = FilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return request.user, filters.validated_data  # type: ignore[return-value]


def _audit_the_view(request: Request, viewer: Person, filters: dict[str, uuid.UUID], action: str) -> None:
    subject = Person.objects.filter(public_id=filters["subject"]).first() if "subject" in filters else None
    audit.record(
        action,
        actor=viewer,
        subject=subject,
        actor_role=Role.DPO if has_role(viewer, Role.DPO) else "",
        object_ref=f"actor={filters.get('actor', '')}"[:100],
        request_id=request_id_of(request),
    )


class AuditEntriesApi(GenericAPIView):
    """The audit log by actor or subject: in full for the DPO and welfare lead, neutral for administrators."""

    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()

    @extend_schema(parameters=FILTERS)
    def get(self, request: Request) -> Response:
        viewer, filters = _filtered(request)
        entries = audit_entries_for(viewer, **filters)
        page = self.paginate_queryset(entries)
        full = audit_view_kind(viewer) == "full"
        if full and "subject" in filters:
            _audit_the_view(request, viewer, filters, "audit.entries.viewed")
        serializer = AuditEntrySerializer if full else NeutralEntrySerializer
        return self.get_paginated_response(serializer(entry_rows(viewer, page or []), many=True).data)


class AuditExportApi(APIView):
    """The same entries as CSV, for the DPO and welfare lead. Each export is itself audited."""

    @extend_schema(parameters=FILTERS, responses={(200, "text/csv"): str})
    def get(self, request: Request) -> HttpResponse:
        viewer, filters = _filtered(request)
        if audit_view_kind(viewer) != "full":
            raise NotPermitted("Exports of the audit log are for the data protection officer and the welfare lead.")
        rows = entry_rows(viewer, list(audit_entries_for(viewer, **filters)[:50000]))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(AuditEntrySerializer().fields))
        writer.writeheader()
        writer.writerows(rows)
        _audit_the_view(request, viewer, filters, "audit.entries.exported")
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="keel-audit.csv"'
        return response


class WithholdingApi(APIView):
    """The DPO withholds an entry from a person's access log, recording the legal ground."""

    class InputSerializer(serializers.Serializer):
        entry = serializers.UUIDField()
        ground = serializers.CharField(max_length=300)

    class OutputSerializer(serializers.Serializer):
        entry = serializers.UUIDField(source="entry_id")
        ground = serializers.CharField()
        decided_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        if not has_role(request.user, Role.DPO):  # type: ignore[arg-type]
            raise NotPermitted("Only the data protection officer can withhold an entry.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = get_object_or_404(AuditEntry, public_id=data.validated_data["entry"])
        try:
            withholding = audit.withhold(
                entry=entry,
                ground=data.validated_data["ground"],
                decided_by=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
            )
        except ValueError as exc:
            raise exceptions.ValidationError({"ground": [str(exc)]}) from exc
        return Response(self.OutputSerializer(withholding).data, status=201)
