from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema


class KeelAutoSchema(AutoSchema):
    """Names nested serializers after their view (``ConsentApi.InputSerializer`` → ``ConsentApiInput``), so
    the one-input-one-output-per-endpoint pattern gives unique schema components."""

    def get_serializer_name(self, serializer: Any, direction: Literal["request", "response"]) -> str:
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return str(super().get_serializer_name(serializer, direction))
        return "".join(part.removesuffix("Serializer") for part in qualname.split(".") if part != "<locals>")
