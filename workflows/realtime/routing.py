"""Websocket routes and background-worker channels."""

from django.urls import path

from workflows.realtime import consumers

websocket_urlpatterns = [
    path("ws/health/", consumers.HealthConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", consumers.RunConsumer.as_asgi()),
]

# Channel name -> consumer, for `manage.py runworker <channel>`.
channel_routes: dict = {}
