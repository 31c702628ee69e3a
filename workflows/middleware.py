"""The API answers in the SPEC's error body whatever goes wrong, with DEBUG on or off.

`api_errors` is the outermost middleware. For paths under /api/ it refuses a request whose path,
query string, cookies or headers carry a NUL character or a lone surrogate (PostgreSQL cannot
compare them, and they would reach the session, token and ORM lookups), and it turns every error
answer that is not JSON — Django's HTML 400/404/500 pages, the debug page with its traceback —
into `{"errors": [{code, message}]}` with the same status. API views already answer JSON
(workflows.errors.exception_handler); this catches what happens around them.
"""

from __future__ import annotations

from http import HTTPStatus

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

from workflows.errors import RETRY_AFTER_S, internal_error_body, problem
from workflows.parsing import has_bad_characters, safe_text, text_problem

API_PREFIXES = ("/api/",)
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    503: "overloaded",
}


@sync_and_async_middleware
def api_errors(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            if not is_api(request):
                return await get_response(request)
            refusal = refused(request)
            if refusal is not None:
                return refusal
            return as_json_error(await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            if not is_api(request):
                return get_response(request)
            refusal = refused(request)
            if refusal is not None:
                return refusal
            return as_json_error(get_response(request))

    return middleware


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIXES)


def refused(request: HttpRequest) -> HttpResponse | None:
    """A 400 for the first part of the request that carries text nothing can store."""
    try:
        for part, text in request_texts(request):
            if has_bad_characters(text):
                return JsonResponse({"errors": [text_problem(part, "the value")]}, status=400)
    except SuspiciousOperation as exc:  # e.g. more query parameters than Django parses
        message = safe_text(str(exc))[:200]
        return JsonResponse({"errors": [problem("bad_request", message)]}, status=400)
    return None


def request_texts(request: HttpRequest):
    yield "path", request.path_info
    for name, values in request.GET.lists():
        yield name, name
        for value in values:
            yield name, value
    for name, value in request.COOKIES.items():
        yield f"cookie {name}", value
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str):
            yield f"header {name[5:].replace('_', '-').title()}", value


def as_json_error(response: HttpResponse) -> HttpResponse:
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    status = response.status_code
    if status >= 500 and status != 503:
        body = internal_error_body()
    else:
        code = STATUS_CODES.get(status, f"http_{status}")
        body = {"errors": [problem(code, phrase(status))]}
    answer = JsonResponse(body, status=status)
    for header in ("Retry-After", "Allow", "WWW-Authenticate"):
        if header in response:
            answer[header] = response[header]
    if status == 503 and "Retry-After" not in answer:
        answer["Retry-After"] = str(RETRY_AFTER_S)
    return answer


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"HTTP {status}"
