from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from backend.ops import views as ops_views

admin.site.site_header = "Keel configuration"
admin.site.site_title = "Keel"

api_v1 = [
    path("", include("backend.organisation.urls")),
    path("", include("backend.consent.urls")),
    path("", include("backend.exposure.urls")),
    path("", include("backend.exposure.import_urls")),
    path("", include("backend.policies.urls")),
    path("", include("backend.privacy.urls")),
    path("", include("backend.alerts.urls")),
]

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("status", ops_views.status, name="status"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("frontend.alert_urls")),
    path("", include("frontend.urls")),
]

handler400 = "frontend.views.error_400"
handler403 = "frontend.views.error_403"
handler404 = "frontend.views.error_404"
handler500 = "frontend.views.error_500"
