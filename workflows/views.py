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


# The canvas's icon (frontend/index.html has it inline), for the pages that ask the browser's
# default place: the admin, the login page, a JSON answer opened in a tab.
FAVICON = (
    b"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>"
    b"<rect width='24' height='24' rx='6' fill='#ff6d5a'/>"
    b"<path d='M6 7h8M6 12h12M6 17h8' stroke='white' stroke-width='2.4' stroke-linecap='round'/>"
    b"</svg>"
)


def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FAVICON, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
