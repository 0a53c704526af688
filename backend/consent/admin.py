from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from backend.consent.models import Notice
from backend.consent.services import notice_publish
from backend.organisation.admin_site import AdministratorOnlyAdmin


@admin.register(Notice)
class NoticeAdmin(AdministratorOnlyAdmin):
    """Notices are versions: an administrator publishes a new one; none is ever edited or deleted."""

    list_display = ["version", "published_at", "text_hash"]
    fields = ["text"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Notice, form: object, change: bool) -> None:
        published = notice_publish(text=obj.text, now=timezone.now(), actor=request.user)  # type: ignore[arg-type]
        obj.pk, obj.version, obj.text_hash, obj.published_at = (
            published.pk,
            published.version,
            published.text_hash,
            published.published_at,
        )
