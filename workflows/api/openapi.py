"""What the OpenAPI description says of every operation alike, added by the postprocessing
hooks in SPECTACULAR_SETTINGS:

- `document_errors`: the statuses every operation can answer with besides its own, with the
  SPEC §6 error body, so a client generated from /api/schema/ knows every answer (views declare
  only what is theirs: a 409 of a run in the wrong state, a 400 of a rejected document); and
  which request bodies are required.
- `bound_free_values`: free-form values (a run's inputs, a node's config) as `JsonValue`,
  whose integers fit 64 bits as the body parser (workflows.parsing) demands."""

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
        for method, operation in operations.items():
            for status in error_statuses(path, operation):
                operation["responses"].setdefault(str(status), error_response(status))
            if body_required(result, path, method, operation):
                operation["requestBody"]["required"] = True
    return result


# Bodies refused when absent although no field of theirs is required (an empty import).
BODY_REQUIRED = {("/api/workflows/import/", "post")}


def body_required(result: dict, path: str, method: str, operation: dict) -> bool:
    """Whether the API refuses the operation without a body: it has a required field."""
    if "requestBody" not in operation:
        return False
    if (path, method) in BODY_REQUIRED:
        return True
    content = operation["requestBody"]["content"].values()
    return any(requires_fields(result, media.get("schema", {})) for media in content)


def requires_fields(result: dict, schema: dict) -> bool:
    if "$ref" in schema:
        schema = result["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    writable = {
        name for name, part in schema.get("properties", {}).items() if not part.get("readOnly")
    }
    if writable & set(schema.get("required", [])):
        return True
    return any(requires_fields(result, part) for part in schema.get("allOf", []))


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


# --- any JSON value, within the limits every body is parsed with (workflows.parsing) ----------

MAX_INT = 2**63 - 1
JSON_VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}
JSON_VALUE = {
    "description": "Any JSON value; integers fit 64 bits (text: no NUL, no lone surrogate).",
    "anyOf": [
        {"type": "string"},
        {"type": "boolean"},
        {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "array", "items": JSON_VALUE_REF},
        {"type": "object", "additionalProperties": JSON_VALUE_REF},
        {"enum": [None]},
    ],
}
SHAPED = frozenset(
    {"type", "$ref", "allOf", "anyOf", "oneOf", "enum", "properties", "items", "not"}
)


def bound_free_values(result: dict, generator, request, public) -> dict:
    """Every free-form value (a run's inputs, a node's config, approval data, ...) described as
    `JsonValue`: the API refuses integers beyond 64 bits anywhere in a body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in schemas.items():
        schemas[name] = bounded(schema)
    schemas["JsonValue"] = JSON_VALUE
    for operations in result["paths"].values():
        for operation in operations.values():
            bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = bounded(media["schema"])
    return result


def bounded(schema: Any) -> Any:
    """`schema` with each part that takes any value (`{}`, `true`, an object of anything)
    narrowed to JsonValue."""
    if schema is True:
        return JSON_VALUE_REF
    if not isinstance(schema, dict):
        return schema
    if not (SHAPED & set(schema)):
        rest = {key: value for key, value in schema.items() if key != "nullable"}
        return {**rest, "allOf": [JSON_VALUE_REF]} if rest else JSON_VALUE_REF
    result = dict(schema)
    if "properties" in result:
        result["properties"] = {name: bounded(part) for name, part in result["properties"].items()}
    for key in ("items", "additionalProperties"):
        if key in result:
            result[key] = bounded(result[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in result:
            result[key] = [bounded(part) for part in result[key]]
    open_object = not ({"properties", "additionalProperties"} & set(result))
    if result.get("type") == "object" and open_object:
        result["additionalProperties"] = JSON_VALUE_REF
    return result


# --- links: the ids a created object's answer carries, for the operations that take them ------

# (operation creating it, its status) -> the path parameter its body's `id` fills
CREATORS = {
    ("/api/workflows/", "post", "201"): "workflow_id",
    ("/api/workflows/import/", "post", "201"): "workflow_id",
    ("/api/workflows/{workflow_id}/runs/", "post", "201"): "run_id",
    ("/api/runs/{run_id}/rerun/", "post", "201"): "run_id",
}


def document_links(result: dict, generator, request, public) -> dict:
    """OpenAPI links from each creating operation to every operation taking the new id (the
    stateful phase of `make apicheck` follows them; clients learn where an id goes)."""
    for (path, method, status), parameter in CREATORS.items():
        response = result["paths"][path][method]["responses"][status]
        response["links"] = {
            link_name(target): {
                "operationId": target["operationId"],
                "parameters": {parameter: "$response.body#/id"},
            }
            for target_path, operations in result["paths"].items()
            for target in operations.values()
            if f"{{{parameter}}}" in target_path and "{node_id}" not in target_path
        }
    return result


def link_name(operation: dict) -> str:
    return "".join(part.title() for part in operation["operationId"].split("_"))
