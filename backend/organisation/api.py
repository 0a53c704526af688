from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.middleware import request_id_of
from backend.organisation.models import ApiToken, Person, TokenScope
from backend.organisation.selectors import roles_of, tokens_of
from backend.organisation.services import TokenError, refuse_foreign_token, token_create, token_revoke


class RoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    name = serializers.CharField(source="label")
    scope_kind = serializers.CharField()
    scope_id = serializers.UUIDField(allow_null=True)
    scope_name = serializers.CharField(allow_null=True)


class MeApi(APIView):
    token_scopes = {"GET": TokenScope.PROFILE_READ}

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        username = serializers.CharField()
        name = serializers.CharField()
        roles = RoleSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        person: Person = request.user  # type: ignore[assignment]
        data = {
            "id": person.public_id,
            "username": person.username,
            "name": person.name,
            "roles": roles_of(person),
        }
        return Response(self.OutputSerializer(data).data)


class TokenOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]


class TokenListApi(GenericAPIView):
    serializer_class = TokenOutputSerializer
    queryset = ApiToken.objects.none()  # for the schema; reads go through tokens_of()

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices), min_length=1)
        days = serializers.IntegerField(min_value=1, max_value=365, default=90)

    class CreatedSerializer(TokenOutputSerializer):
        key = serializers.CharField()

        class Meta(TokenOutputSerializer.Meta):
            fields = [*TokenOutputSerializer.Meta.fields, "key"]

    @extend_schema(responses=TokenOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(tokens_of(request.user))  # type: ignore[arg-type]
        return self.get_paginated_response(TokenOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token, key = token_create(person=request.user, now=timezone.now(), **data.validated_data)  # type: ignore[arg-type]
        except TokenError as exc:
            raise serializers.ValidationError({"scopes": [str(exc)]}) from exc
        token.key = key  # type: ignore[attr-defined]
        return Response(self.CreatedSerializer(token).data, status=201)


class TokenDetailApi(APIView):
    @extend_schema(request=None, responses=TokenOutputSerializer)
    def delete(self, request: Request, token_id: str) -> Response:
        token = tokens_of(request.user).filter(public_id=token_id).first()  # type: ignore[arg-type]
        if token is None:
            refuse_foreign_token(actor=request.user, token_id=token_id, request_id=request_id_of(request))  # type: ignore[arg-type]
        token_revoke(token=token, actor=request.user, now=timezone.now())  # type: ignore[arg-type]
        return Response(TokenOutputSerializer(token).data)
