from django.contrib import admin

from backend.audit import services as audit
from backend.organisation.admin_site import AdministratorOnlyAdmin, AdministratorOnlyInline
from backend.organisation.models import Membership, Organisation, Person, RoleAssignment, Team, Unit


@admin.register(Organisation)
class OrganisationAdmin(AdministratorOnlyAdmin):
    list_display = ["name", "time_zone", "holiday_region", "min_group_size"]


class TeamInline(AdministratorOnlyInline):
    model = Team


@admin.register(Unit)
class UnitAdmin(AdministratorOnlyAdmin):
    list_display = ["name", "exposed_role", "highest_risk", "backup_welfare_officer"]
    inlines = [TeamInline]
    raw_id_fields = ["backup_welfare_officer"]


@admin.register(Team)
class TeamAdmin(AdministratorOnlyAdmin):
    list_display = ["name", "unit"]
    list_filter = ["unit"]


class MembershipInline(AdministratorOnlyInline):
    model = Membership
    fields = ["team", "started_on", "ended_on"]


class RoleInline(AdministratorOnlyInline):
    model = RoleAssignment
    fields = ["role", "unit", "team"]


@admin.register(Person)
class PersonAdmin(AdministratorOnlyAdmin):
    list_display = ["username", "display_name", "staff_type", "employing_organisation", "is_active"]
    list_filter = ["staff_type", "is_active"]
    search_fields = ["username", "display_name"]
    fields = [
        "username",
        "display_name",
        "first_name",
        "last_name",
        "email",
        "staff_type",
        "employing_organisation",
        "is_active",
    ]
    inlines = [MembershipInline, RoleInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is not RoleAssignment:
            return
        for verb, objects in (
            ("assigned", formset.new_objects),
            ("changed", [obj for obj, _ in formset.changed_objects]),
            ("removed", formset.deleted_objects),
        ):
            for obj in objects:
                audit.record(f"organisation.role.{verb}", actor=request.user, subject=obj.person, object_ref=obj.role)
