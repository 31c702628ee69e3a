"""The API answers in the SPEC's error body whatever goes wrong, with DEBUG on or off.

`api_errors` is the outermost middleware. It refuses (400) a request whose path, query string,
cookies or headers carry a NUL character or a lone surrogate (PostgreSQL cannot compare them,
and they would reach the session, token and ORM lookups); `WebsocketTextGuard` does the same for
websocket handshakes (close code 4400). For paths under /api/ it turns every error answer that
is not JSON — Django's HTML 400/404/500 pages, the debug page with its traceback — into
`{"errors": [{code, message}]}` with the same status. API views already answer JSON
(workflows.errors.exception_handler); this catches what happens around them.

`OneThreadASGIHandler` serves Django's HTTP requests with the middleware chain and the view in
one thread hop instead of two hops per middleware, on threads reused from request to request.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from http import HTTPStatus

from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted, SuspiciousOperation
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.http.cookie import parse_cookie
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix, set_urlconf
from django.utils.decorators import sync_and_async_middleware
from django.utils.log import log_response

from workflows.errors import RETRY_AFTER_S, internal_error_body, problem
from workflows.parsing import has_bad_characters, safe_text, text_problem

REQUEST_LOG = logging.getLogger("switchyard.requests")
HOOK_TOKEN = re.compile(r"^(/hooks/)[^/]+")


class OneThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain built synchronously and entered once.

    Django's own middleware (sessions, CSRF, auth, messages, …) is sync- and async-capable
    through `MiddlewareMixin`, whose async mode moves each `process_request` and
    `process_response` to a thread of its own: a dozen thread hops per request around a view
    that is synchronous anyway (DRF), about a sixth of the web process's CPU. Built in sync
    mode, the chain runs with the view in the request's thread-sensitive thread (one per
    request, as for any sync view), entered with a single hop; what each middleware does is
    unchanged."""

    # Threads kept for the next requests: enough for every request the admission gate lets in.
    IDLE_THREADS = 32

    def __init__(self) -> None:
        super().__init__()
        self.idle_threads: list[ThreadPoolExecutor] = []

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._sync_chain = self._middleware_chain
        self.serve_in_thread = sync_to_async(self.serve, thread_sensitive=True)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)

    async def __call__(self, scope, receive, send) -> None:
        """As Django's, but the request's thread is taken from the threads earlier requests
        left instead of started (and joined) anew: its sync work still runs on one thread of
        its own, one request at a time, as under a WSGI server's thread pool."""
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}")
        thread = self.idle_threads.pop() if self.idle_threads else new_request_thread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        except BaseException:
            # Work of this request may still be queued on the thread (cancelled while a
            # view ran): not for another request to wait behind.
            thread.shutdown(wait=False)
            raise
        # Every sync call of the request was awaited, in order, on this one thread: it is idle.
        if len(self.idle_threads) < self.IDLE_THREADS:
            self.idle_threads.append(thread)
        else:
            thread.shutdown(wait=False)

    async def handle(self, scope, receive, send) -> None:
        """As Django's, with `request_started`, the request, the response and its `close()`
        (`request_finished`: the database connection goes back to the pool) in the one hop
        of `serve` instead of three. An answer is complete when the view returns, so it is
        closed before it is sent; a streamed one is closed after, as Django does."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            response = None
            try:
                try:
                    async with asyncio.TaskGroup() as tasks:
                        tasks.create_task(self.listen_for_disconnect(receive))
                        response = await self.serve_in_thread(scope, body_file)
                        await self.send_response(response, send)
                        raise RequestProcessed
                except* (RequestProcessed, RequestAborted):
                    pass
            except BaseExceptionGroup as group:
                if len(group.exceptions) == 1:
                    raise group.exceptions[0]
                raise
            if response is None:  # the client left first: as Django, once the view is done
                await sync_to_async(signals.request_finished.send, thread_sensitive=True)(
                    sender=self.__class__
                )
            elif response.streaming:
                await sync_to_async(response.close, thread_sensitive=True)()

    def serve(self, scope, body_file) -> HttpResponseBase:
        """The request's answer, closed unless it streams (run in the request's thread)."""
        began = time.perf_counter()
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        log_request(scope, response.status_code, time.perf_counter() - began)
        return response

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        """Django's sync `get_response`, on the chain as it was built (not the hop to it)."""
        set_urlconf(settings.ROOT_URLCONF)
        response = self._sync_chain(request)
        response._resource_closers.append(request.close)
        if response.status_code >= 500:  # the report with its traceback; 4xx: the request log
            log_response(
                "%s: %s",
                response.reason_phrase,
                request.path,
                response=response,
                request=request,
            )
        return response


def log_request(scope: dict, status: int, seconds: float) -> None:
    """One line per HTTP request on `switchyard.requests` (a 4xx or 5xx as a warning):
    `GET /api/runs/7/ 200 3.1 ms` — the path without its query string, which may carry data,
    and a webhook's token (its credential) written as `***`."""
    level = logging.WARNING if status >= 400 else logging.INFO
    if REQUEST_LOG.isEnabledFor(level):
        path = HOOK_TOKEN.sub(r"\1***", safe_text(scope.get("path", "")))
        REQUEST_LOG.log(level, "%s %s %d %.1f ms", scope.get("method"), path, status, seconds * 1e3)


class HookRequestLog:
    """The request log's line for webhooks (`/hooks/…`), which are served before Django's
    handler (workflows/api/hooks.py); Django's own requests are logged by the handler."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/hooks/"):
            return await self.app(scope, receive, send)
        began, status = time.perf_counter(), 500

        async def sent(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            log_request(scope, status, time.perf_counter() - began)


class RequestProcessed(Exception):
    """The answer is sent: ends the wait for the client's disconnect."""


def new_request_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")


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
            refusal = refused(request)
            if refusal is not None:
                return refusal
            response = await get_response(request)
            return as_json_error(response) if is_api(request) else response

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            refusal = refused(request)
            if refusal is not None:
                return refusal
            response = get_response(request)
            return as_json_error(response) if is_api(request) else response

    return middleware


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIXES)


def refused(request: HttpRequest) -> HttpResponse | None:
    """A 400 for the first part of the request that carries text nothing can store (any
    path: the pages' session and admin lookups choke on it as the API's do)."""
    try:
        for part, text in request_texts(request):
            if has_bad_characters(text):
                return bad_request(request, text_problem(part, "the value"))
    except SuspiciousOperation as exc:  # e.g. more query parameters than Django parses
        return bad_request(request, problem("bad_request", safe_text(str(exc))[:200]))
    return None


def bad_request(request: HttpRequest, error: dict) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"errors": [error]}, status=400)
    return HttpResponseBadRequest(error["message"], content_type="text/plain; charset=utf-8")


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


class WebsocketTextGuard:
    """ASGI: close a websocket handshake (4400) whose path, query string, headers or cookies
    carry a NUL character or a lone surrogate, before the session lookup sees them."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket" and handshake_has_bad_text(scope):
            await send({"type": "websocket.close", "code": 4400})
            return
        await self.app(scope, receive, send)


def handshake_has_bad_text(scope: dict) -> bool:
    query = QueryDict(scope.get("query_string", b"").decode("latin-1"))
    texts = [scope.get("path", ""), *(text for pair in query.lists() for text in flat(pair))]
    for name, value in scope.get("headers", []):
        if b"\x00" in value:
            return True
        if name == b"cookie":
            texts.extend(parse_cookie(value.decode("latin-1")).values())
    return any(has_bad_characters(text) for text in texts)


def flat(pair: tuple[str, list[str]]) -> list[str]:
    name, values = pair
    return [name, *values]
