"""The HTTP API (SPEC §6): views, serializers and the one URL configuration."""
