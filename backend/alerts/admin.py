from django.contrib import admin

from backend.alerts.models import OnCallShift
from backend.organisation.admin_site import AdministratorOnlyAdmin


@admin.register(OnCallShift)
class OnCallShiftAdmin(AdministratorOnlyAdmin):
    """Who covers urgent alerts for a unit, and when. Units without out-of-hours cover are flagged to the lead."""

    list_display = ["unit", "person", "starts_at", "ends_at"]
    list_filter = ["unit"]
    raw_id_fields = ["person"]
