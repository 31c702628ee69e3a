from django.urls import path

from workflows import api_observe as api

urlpatterns = [
    path("runs/<int:run_id>/timeline/", api.RunTimelineView.as_view(), name="run-timeline"),
]
