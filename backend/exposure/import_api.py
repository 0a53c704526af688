"""Upload a CSV file of records and follow its import (docs/import.md)."""

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.problems import PayloadTooLarge
from backend.consent.selectors import require
from backend.exposure.import_tasks import run_import
from backend.exposure.imports import import_dir, import_file_path, import_job_of, import_submit, max_upload_bytes
from backend.exposure.models import ImportJob
from backend.organisation.authentication import person_of
from backend.organisation.models import TokenScope

FIELD = "file"
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


class _ImportUpload(FileUploadHandler):
    """Streams the ``file`` part into an anonymous temporary file in the import directory (not the system's
    temporary directory, which may be memory, and never under the client's name); stops past the size limit."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != FIELD:
            raise SkipFile()
        directory = import_dir()
        directory.mkdir(parents=True, exist_ok=True)
        temporary = tempfile.NamedTemporaryFile(dir=directory, prefix="upload-", suffix=".part")  # noqa: SIM115
        self.file = UploadedFile(temporary, name="upload.csv", content_type=self.content_type, size=0)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.flush()
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()  # the temporary file removes itself


class ImportJobSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    state = serializers.CharField()
    phase = serializers.CharField()
    total = serializers.IntegerField(source="total_rows", allow_null=True)
    processed = serializers.IntegerField(source="processed_rows")
    stored = serializers.IntegerField(source="stored_rows")
    error_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # "errors" as a class attribute would hide Serializer.errors.
        return {**super().get_fields(), "errors": serializers.ListField(child=serializers.DictField())}


class ImportListApi(APIView):
    """Upload a CSV file of your records (multipart, field ``file``). It is checked and stored by a worker,
    all rows or none; follow it at the returned job's URL."""

    parser_classes = [MultiPartParser]
    token_scopes = {"POST": TokenScope.EXPOSURE_WRITE}

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        self.upload = _ImportUpload(request, max_upload_bytes())
        if request.method == "POST":
            request.upload_handlers = [self.upload]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Refused before a byte is read: Django reads no more of a body than its Content-Length.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_upload_bytes() + MULTIPART_SLACK:
            raise PayloadTooLarge(f"An import file is at most {max_upload_bytes() // (1024 * 1024)} MB.")
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": inline_serializer("ImportUpload", fields={FIELD: serializers.FileField()})},
        responses={202: ImportJobSerializer},
    )
    def post(self, request: Request) -> Response:
        person = person_of(request)
        require(person, "record")
        upload = request.FILES.get(FIELD)
        if self.upload.too_large:
            raise PayloadTooLarge(f"An import file is at most {max_upload_bytes() // (1024 * 1024)} MB.")
        if upload is None:
            raise exceptions.ValidationError({FIELD: ["Attach the CSV file in the form field 'file'."]})
        try:
            job = import_submit(person=person, upload=Path(upload.file.name), now=timezone.now())
        finally:
            upload.close()
        transaction.on_commit(partial(run_import.delay, str(job.public_id), str(import_file_path(job))))
        response = Response(ImportJobSerializer(job).data, status=202)
        response["Location"] = f"{request.path}{job.public_id}/"
        return response


class ImportDetailApi(APIView):
    """One of your imports: its state, how many rows are read, and every problem found (the first 1,000)."""

    token_scopes = {"GET": TokenScope.EXPOSURE_WRITE}

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        job: ImportJob | None = import_job_of(person_of(request), job_id)
        if job is None:
            raise Http404
        return Response(ImportJobSerializer(job).data)
