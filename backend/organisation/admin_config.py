from django.contrib.admin.apps import AdminConfig


class KeelAdminConfig(AdminConfig):
    """Django admin, with a site that lets in administrators only (imports no models at load time)."""

    default_site = "backend.organisation.admin_site.KeelAdminSite"
