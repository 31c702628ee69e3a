"""Pages: the canvas app shell (served from the Vite build in static/)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required
@ensure_csrf_cookie
def app_shell(request: HttpRequest, **kwargs) -> HttpResponse:
    """The single-page canvas app; every client-side route renders this page.

    The page sets the CSRF cookie: the app reads it and sends it as `X-CSRFToken` on writes.
    """
    index = settings.BASE_DIR / "static" / "index.html"
    if index.exists():
        return HttpResponse(index.read_text(encoding="utf-8"))
    return render(request, "app_missing.html", status=200)
