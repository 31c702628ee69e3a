from django.contrib import admin
from django.urls import include, path, re_path

from workflows.observability.metrics import metrics_view
from workflows.views import app_shell, favicon

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("workflows.api.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    path("", app_shell, name="app"),
    re_path(r"^workflows/.*$", app_shell, name="app-routes"),
    re_path(r"^secrets/?$", app_shell, name="app-secrets"),
    re_path(r"^runs/?$", app_shell, name="app-runs"),
]
