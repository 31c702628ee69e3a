from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from workflows.api import (
    activation,
    base,
    control,
    listen,
    nodes,
    observe,
    runs,
    secrets,
    versions,
    workflows,
)

urlpatterns = [
    path("schema/", base.SchemaView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("auth/token/", base.TokenView.as_view(), name="api-token"),
    path("me/", base.MeView.as_view(), name="me"),
    path("node-types/", workflows.NodeTypesView.as_view(), name="node-types"),
    path("workflows/", workflows.WorkflowListView.as_view(), name="workflow-list"),
    path("workflows/import/", workflows.WorkflowImportView.as_view(), name="workflow-import"),
    path(
        "workflows/<int:workflow_id>/",
        workflows.WorkflowDetailView.as_view(),
        name="workflow-detail",
    ),
    path(
        "workflows/<int:workflow_id>/validate/",
        workflows.WorkflowValidateView.as_view(),
        name="workflow-validate",
    ),
    path(
        "workflows/<int:workflow_id>/export/",
        workflows.WorkflowExportView.as_view(),
        name="workflow-export",
    ),
    path(
        "workflows/<int:workflow_id>/sharing/",
        workflows.WorkflowSharingView.as_view(),
        name="workflow-sharing",
    ),
    path(
        "workflows/<int:workflow_id>/runs/", runs.WorkflowRunsView.as_view(), name="workflow-runs"
    ),
    path(
        "workflows/<int:workflow_id>/stats/",
        observe.WorkflowStatsView.as_view(),
        name="workflow-stats",
    ),
    path(
        "workflows/<int:workflow_id>/activate/",
        activation.WorkflowActivateView.as_view(),
        name="workflow-activate",
    ),
    path(
        "workflows/<int:workflow_id>/deactivate/",
        activation.WorkflowDeactivateView.as_view(),
        name="workflow-deactivate",
    ),
    path(
        "workflows/<int:workflow_id>/nodes/<str:node_id>/listen/",
        listen.NodeListenView.as_view(),
        name="workflow-node-listen",
    ),
    path(
        "workflows/<int:workflow_id>/versions/",
        versions.VersionListView.as_view(),
        name="workflow-versions",
    ),
    path(
        "workflows/<int:workflow_id>/versions/<int:revision>/",
        versions.VersionDetailView.as_view(),
        name="workflow-version",
    ),
    path(
        "workflows/<int:workflow_id>/versions/<int:revision>/diff/",
        versions.VersionDiffView.as_view(),
        name="workflow-version-diff",
    ),
    path(
        "workflows/<int:workflow_id>/versions/<int:revision>/restore/",
        versions.VersionRestoreView.as_view(),
        name="workflow-version-restore",
    ),
    path(
        "workflows/<int:workflow_id>/nodes/<str:node_id>/pin/",
        nodes.NodePinView.as_view(),
        name="workflow-node-pin",
    ),
    path(
        "workflows/<int:workflow_id>/nodes/<str:node_id>/test/",
        nodes.NodeTestView.as_view(),
        name="workflow-node-test",
    ),
    path("runs/", runs.RunListView.as_view(), name="run-list"),
    path("runs/<int:run_id>/", runs.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:run_id>/events/", runs.RunEventsView.as_view(), name="run-events"),
    path("runs/<int:run_id>/timeline/", observe.RunTimelineView.as_view(), name="run-timeline"),
    path("runs/<int:a>/diff/<int:b>/", observe.RunDiffView.as_view(), name="run-diff"),
    path(
        "workflows/<int:workflow_id>/preview/",
        observe.ExpressionPreviewView.as_view(),
        name="workflow-expression-preview",
    ),
    path("runs/<int:run_id>/cancel/", control.RunCancelView.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/resume/", control.RunResumeView.as_view(), name="run-resume"),
    path("runs/<int:run_id>/pause/", control.RunPauseView.as_view(), name="run-pause"),
    path("runs/<int:run_id>/rerun/", control.RunRerunView.as_view(), name="run-rerun"),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/output/",
        control.NodeOutputView.as_view(),
        name="run-node-output",
    ),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/approve/",
        control.NodeApproveView.as_view(),
        name="run-node-approve",
    ),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/config/",
        control.NodeConfigView.as_view(),
        name="node-config",
    ),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/retry/",
        control.NodeRetryView.as_view(),
        name="run-node-retry",
    ),
    path("secrets/", secrets.SecretListView.as_view(), name="secret-list"),
    path("secrets/<str:name>/", secrets.SecretDetailView.as_view(), name="secret-detail"),
    # Last, after every route (add new ones above): unknown API paths answer the SPEC error body.
    re_path(r"^.*$", base.NotFoundView.as_view(), name="api-not-found"),
]
