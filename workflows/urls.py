from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from workflows import api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("workflows/", api.WorkflowListView.as_view(), name="workflow-list"),
    path("workflows/import/", api.WorkflowImportView.as_view(), name="workflow-import"),
    path("workflows/<int:workflow_id>/", api.WorkflowDetailView.as_view(), name="workflow-detail"),
    path(
        "workflows/<int:workflow_id>/validate/",
        api.WorkflowValidateView.as_view(),
        name="workflow-validate",
    ),
    path(
        "workflows/<int:workflow_id>/export/",
        api.WorkflowExportView.as_view(),
        name="workflow-export",
    ),
    path("workflows/<int:workflow_id>/runs/", api.WorkflowRunsView.as_view(), name="workflow-runs"),
    path(
        "workflows/<int:workflow_id>/sharing/",
        api.WorkflowSharingView.as_view(),
        name="workflow-sharing",
    ),
    path("node-types/", api.NodeTypesView.as_view(), name="node-types"),
    path("me/", api.MeView.as_view(), name="me"),
    path("runs/", api.RunListView.as_view(), name="run-list"),
    path("runs/<int:run_id>/", api.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:run_id>/events/", api.RunEventsView.as_view(), name="run-events"),
]

# Last, after every route (add new ones above): unknown API paths answer the SPEC error body.
urlpatterns.append(re_path(r"^.*$", api.NotFoundView.as_view(), name="api-not-found"))
