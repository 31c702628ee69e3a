"""The statuses every operation can answer with besides its own, added to the OpenAPI description
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) with the SPEC §6 error body, so a client
generated from /api/schema/ knows every answer: views declare only what is theirs (a 409 of
a run in the wrong state, a 400 of a rejected document)."""

from __future__ import annotations

from typing import Any

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
WHY = {
    400: "The request is refused: a parameter or the body is wrong (`errors` says which).",
    401: "Not logged in: no token or session, or an unknown token.",
    403: "Logged in but not allowed (a session without its CSRF token, or not the owner).",
    404: "No such object (or not yours to see), or no API endpoint at that path.",
    413: "The request body is larger than the server accepts.",
    415: "The body's media type is not one the operation takes.",
    503: "The server is busy: try again after `Retry-After` seconds.",
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"},
}


def document_errors(result: dict, generator, request, public) -> dict:
    """Add the SPEC error answers each operation can give (a view's own win)."""
    for path, operations in result["paths"].items():
        for operation in operations.values():
            for status in error_statuses(path, operation):
                operation["responses"].setdefault(str(status), error_response(status))
    return result


def error_statuses(path: str, operation: dict[str, Any]) -> list[int]:
    statuses = [503]
    if any(operation.get("security") or []):
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    queried = any(parameter["in"] == "query" for parameter in operation.get("parameters", []))
    if queried or "requestBody" in operation:
        statuses.append(400)
    if "requestBody" in operation:
        statuses += [413, 415]
    return sorted(statuses)


def error_response(status: int) -> dict[str, Any]:
    response = {"description": WHY[status], "content": {"application/json": {"schema": ERROR_BODY}}}
    if status == 503:
        response["headers"] = RETRY_AFTER
    return response
