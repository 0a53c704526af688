from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.organisation.authentication import person_of
from backend.organisation.models import Unit
from backend.policies.models import REVIEW_NOTE, LimitBasis, Policy
from backend.policies.selectors import policy_for_unit, policy_history
from backend.policies.services import EDITABLE, PolicyRejected, policy_set


class PolicySerializer(serializers.ModelSerializer):
    unit = serializers.UUIDField(source="unit.public_id", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    is_default = serializers.BooleanField(read_only=True)
    note = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = ["unit", "unit_name", "version", "created_at", "is_default", "note", *EDITABLE]
        read_only_fields = ["version", "created_at"]

    def get_note(self, policy: Policy) -> str:
        return REVIEW_NOTE if policy.is_default else ""


class PolicyInputSerializer(serializers.Serializer):
    limit_basis = serializers.ChoiceField(choices=LimitBasis.choices, required=False)
    daily_limit = serializers.IntegerField(min_value=1, max_value=960 * 10, required=False)
    weekly_limit = serializers.IntegerField(min_value=1, max_value=960 * 70, required=False)
    early_warning_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)
    heavy_days = serializers.IntegerField(min_value=2, max_value=14, required=False)
    break_reminder_minutes = serializers.IntegerField(min_value=10, max_value=240, required=False)
    follow_up_on_unexpected = serializers.BooleanField(required=False)
    follow_up_on_live = serializers.BooleanField(required=False)
    follow_up_on_got_to_me = serializers.BooleanField(required=False)
    follow_up_on_team_incident = serializers.BooleanField(required=False)
    follow_up_first_hours = serializers.IntegerField(min_value=1, max_value=24 * 14, required=False)
    follow_up_second_days = serializers.IntegerField(min_value=1, max_value=180, required=False)
    screening_months_exposed = serializers.IntegerField(min_value=1, max_value=36, required=False)
    screening_months_other = serializers.IntegerField(min_value=1, max_value=60, required=False)
    screening_reminder_days = serializers.IntegerField(min_value=1, max_value=180, required=False)
    screening_alert_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    tenure_review_years = serializers.IntegerField(min_value=1, max_value=20, required=False)


class PolicyListApi(APIView):
    """Every unit's current limits. Organisational, not personal: anyone signed in may read them."""

    @extend_schema(responses=PolicySerializer(many=True))
    def get(self, request: Request) -> Response:
        units = Unit.objects.order_by("name")
        return Response(PolicySerializer([policy_for_unit(u) for u in units], many=True).data)


class PolicyDetailApi(APIView):
    """One unit's limits: read them, or (welfare lead, administrator) change them as a new version."""

    @extend_schema(responses=PolicySerializer)
    def get(self, request: Request, unit_id: str) -> Response:
        unit = get_object_or_404(Unit, public_id=unit_id)
        return Response(PolicySerializer(policy_for_unit(unit)).data)

    @extend_schema(request=PolicyInputSerializer, responses=PolicySerializer)
    def put(self, request: Request, unit_id: str) -> Response:
        unit = get_object_or_404(Unit, public_id=unit_id)
        data = PolicyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            policy = policy_set(
                unit=unit, changes=dict(data.validated_data), actor=person_of(request), now=timezone.now()
            )
        except PolicyRejected as exc:
            raise exceptions.ValidationError(exc.errors) from exc
        return Response(PolicySerializer(policy).data)


class PolicyHistoryApi(APIView):
    @extend_schema(responses=PolicySerializer(many=True))
    def get(self, request: Request, unit_id: str) -> Response:
        unit = get_object_or_404(Unit, public_id=unit_id)
        return Response(PolicySerializer(policy_history(unit), many=True).data)
