"""The one place that turns failures into the SPEC error body `{"errors": [{code, message, ...}]}`.

Services raise the domain errors below; DRF's own exceptions (parse errors, validation errors,
authentication, 404) and Django's (Http404, PermissionDenied, RequestDataTooBig) are mapped by
`exception_handler`, configured as REST_FRAMEWORK["EXCEPTION_HANDLER"].
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger("workflows.api")
RETRY_AFTER_S = 2  # what an overloaded server asks a client to wait before trying again


def problem(code: str, message: str, **where: Any) -> dict[str, Any]:
    """One error entry: code and message, plus `node`/`edge`/`field` when given."""
    return {"code": code, "message": message} | {k: v for k, v in where.items() if v is not None}


class SwitchyardError(Exception):
    """A refused request: carries the error entries and the HTTP status to answer with."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, errors: list[dict[str, Any]], **extra: Any) -> None:
        super().__init__("; ".join(error["message"] for error in errors))
        self.errors = errors
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors, **self.extra}


class DocumentRejected(SwitchyardError):
    """The document cannot be stored at all (malformed, wrong types, duplicate or bad ids)."""


class StaleRevision(SwitchyardError):
    """The client edited an older revision than the one saved: answer 409 with the current one."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, *, sent: Any, current: int) -> None:
        message = (
            f"revision {sent} is stale: the workflow was saved since (current revision "
            f"{current}); reload it and apply your changes again"
        )
        super().__init__([problem("stale_revision", message, field="revision")], revision=current)


class NotRunnable(SwitchyardError):
    """The workflow has validation errors or the run request is wrong (inputs, from_node)."""


class Overloaded(SwitchyardError):
    """Too much at once (no database connection free in time): try again shortly (503)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, message: str = "the server is busy; try again in a moment") -> None:
        super().__init__([problem("overloaded", message)])


def overloaded_body(message: str = "the server is busy; try again in a moment") -> dict:
    return {"errors": [problem("overloaded", message)]}


def internal_error_body() -> dict:
    """A 500's body: what happened is in the server's log, never in the answer."""
    message = "an unexpected error occurred on the server; it has been logged"
    return {"errors": [problem("internal_error", message)]}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"
    default_detail = "the request body is too large"


DRF_CODES = {
    "parse_error": "malformed_json",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "authentication_failed",
    "permission_denied": "permission_denied",
    "not_found": "not_found",
}


def exception_handler(exc: Exception, context: dict) -> Response:
    """Every exception of an API view as the SPEC error body: refusals as their 4xx, a
    database pool with no connection free in time as 503 + Retry-After, anything else as a
    JSON 500 (logged with its traceback here; the client gets no internals)."""
    # Imported here: DRF's views module loads the parser classes (workflows.parsing), which
    # need this module.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    if pool_exhausted(exc):
        exc = Overloaded()
    if isinstance(exc, SwitchyardError):
        set_rollback()
        response = Response(exc.body(), status=exc.status_code)
        if isinstance(exc, Overloaded):
            response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    exc = as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        set_rollback()
        request = context.get("request")
        logger.error(
            "unexpected error in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        return Response(internal_error_body(), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response.data = {"errors": api_exception_errors(exc)}
    return response


def pool_exhausted(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps: Django re-raises driver errors as its own) is the
    connection pool's timeout."""
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite only: no pool
        return False
    while exc is not None:
        if isinstance(exc, PoolTimeout):
            return True
        exc = exc.__cause__
    return False


def as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, Http404):
        return exceptions.NotFound("not found")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    return exc


def api_exception_errors(exc: exceptions.APIException) -> list[dict[str, Any]]:
    if isinstance(exc, exceptions.ValidationError):
        return flatten_detail(exc.detail, field=None)
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    message = str(detail)
    if code == "permission_denied" and message.startswith("CSRF Failed"):
        code = "csrf_failed"
    return [problem(DRF_CODES.get(code, code), message)]


def flatten_detail(detail: Any, field: str | None) -> list[dict[str, Any]]:
    """Serializer errors (nested dicts/lists of ErrorDetail) as a flat list naming each field."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = None if key == "non_field_errors" else key
            path = f"{field}.{name}" if field and name else (name or field)
            errors.extend(flatten_detail(value, path))
        return errors
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [one_detail(item, field) for item in detail]
        errors = []
        for index, item in enumerate(detail):
            errors.extend(flatten_detail(item, f"{field}[{index}]" if field else f"[{index}]"))
        return errors
    return [one_detail(detail, field)]


def one_detail(detail: Any, field: str | None) -> dict[str, Any]:
    code = getattr(detail, "code", None) or "invalid"
    message = str(detail)
    if field and field not in message:
        message = f"{field}: {message}"
    return problem(code, message, field=field)
