from django.urls import path

from workflows import api_control as api

urlpatterns = [
    path("runs/<int:run_id>/cancel/", api.RunCancelView.as_view(), name="run-cancel"),
    path("runs/<int:run_id>/resume/", api.RunResumeView.as_view(), name="run-resume"),
    path("runs/<int:run_id>/rerun/", api.RunRerunView.as_view(), name="run-rerun"),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/output/",
        api.NodeOutputView.as_view(),
        name="run-node-output",
    ),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/approve/",
        api.NodeApproveView.as_view(),
        name="run-node-approve",
    ),
    path(
        "runs/<int:run_id>/nodes/<str:node_id>/retry/",
        api.NodeRetryView.as_view(),
        name="run-node-retry",
    ),
]
