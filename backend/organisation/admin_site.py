from django.contrib import admin
from django.http import HttpRequest

from backend.organisation.models import Role
from backend.organisation.selectors import has_role


def is_administrator(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_authenticated and has_role(user, Role.ADMINISTRATOR))


class KeelAdminSite(admin.AdminSite):
    """Configuration for administrators only; it registers no health or exposure data."""

    site_header = "Keel configuration"
    site_title = "Keel"
    index_title = "Organisation set-up"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request)


class AdministratorOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_administrator(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return is_administrator(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_administrator(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_administrator(request)


class AdministratorOnlyAdmin(AdministratorOnly, admin.ModelAdmin):
    pass


class AdministratorOnlyInline(AdministratorOnly, admin.TabularInline):
    extra = 0
