"""`/hooks/<token>/` (SPEC §8): a webhook request starts a run. No login: the unguessable
token is the credential. An ASGI app in front of Django's (switchyard/asgi.py), all async:
the body is read with its limit as it arrives, database work runs on threads, and a `sync`
webhook waits for its run on the live channel layer without holding a thread.

Answers: async 202 `{"run": id}`; sync 200 with the run's outputs (an output node named
`status_code` holding 100-599 sets the status instead), 500 `{"run", "status"}` when the run
failed or was cancelled, or 202 `{"run": id}` when `sync_timeout_s` passes first. Unknown
token or inactive workflow 404 (nothing revealed), wrong method 405, bad signature 401, body
over `max_body_bytes` 413, a multipart body 415, over the workflow's `rate_per_min` 429 with
`Retry-After`, a body that does not parse as its content type says 400. A repeated
`Idempotency-Key` answers with the first run's id and starts nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from engine.handlers.triggers import WEBHOOK_METHODS
from engine.states import RUN_TERMINAL
from workflows.errors import NotRunnable, problem
from workflows.live import LAYER, run_group
from workflows.runtime import hooks
from workflows.triggers import config_with_defaults

TOKEN_PATTERN = "[A-Za-z0-9_-]{1,64}"
HOOK_PATH = re.compile(rf"^/hooks/({TOKEN_PATTERN})/?$")
POLL_S = 1.0  # a sync webhook re-reads its run this often (live messages may be lost)


class HookError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class HookRouter:
    """Sends `/hooks/…` HTTP requests to `serve_hook`, everything else to `app`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/hooks/"):
            await serve_hook(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def serve_hook(scope, receive, send, answer=None) -> None:
    """Answer a hook request with `answer` (a real webhook's `answer_hook` by default)."""
    answer = answer or answer_hook
    try:
        status, body, headers = await answer(scope, receive)
    except HookError as exc:
        status, headers = exc.status, exc.headers
        body = {"errors": [problem(exc.code, exc.message)]}
    except NotRunnable as exc:
        status, body, headers = 400, {"errors": exc.errors}, {}
    await respond(send, status, body, headers)


def refuse_other_methods(scope) -> None:
    """405 naming every method a webhook may take, for one no webhook takes (real and test
    URLs alike)."""
    if scope["method"] not in WEBHOOK_METHODS:
        allow = {"Allow": ", ".join(WEBHOOK_METHODS)}
        raise HookError(
            405, "method_not_allowed", "webhooks take GET, POST, PUT, PATCH, DELETE", allow
        )


async def answer_hook(scope, receive) -> tuple[int, Any, dict]:
    refuse_other_methods(scope)
    match = HOOK_PATH.match(scope["path"])
    hook = await database_sync_to_async(hooks.hook_find)(match.group(1)) if match else None
    if hook is None:
        raise HookError(404, "not_found", "not found")
    config = config_with_defaults("webhook", hook.config)
    headers = request_headers(scope)
    if scope["method"] != config["method"]:
        message = f"this webhook takes {config['method']} requests"
        raise HookError(405, "method_not_allowed", message, {"Allow": config["method"]})
    body = await read_body(receive, headers, config["max_body_bytes"])
    wait = await database_sync_to_async(hooks.rate_take)(hook.workflow_id, config["rate_per_min"])
    if wait:
        retry = {"Retry-After": str(max(1, int(wait + 0.999)))}
        raise HookError(429, "rate_limited", "too many requests; try again later", retry)
    signature = headers.get(config["signature_header"].lower())
    verified = await database_sync_to_async(hooks.signature_ok)(
        config, hook.owner_id, body, signature
    )
    if not verified:
        raise HookError(401, "bad_signature", "the request's signature does not match")
    key = headers.get("idempotency-key", "")
    if len(key) > hooks.MAX_IDEMPOTENCY_KEY:
        raise HookError(400, "bad_header", "Idempotency-Key: at most 255 characters")
    data = request_data(scope, headers, body)
    run_id, _ = await database_sync_to_async(hooks.hook_run)(hook, data, key)
    if config["response"] != "sync":
        return 202, {"run": run_id}, {}
    return await sync_answer(run_id, float(config["sync_timeout_s"]))


def request_data(scope, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """A request as a webhook node's output: method, headers (credentials dropped), query and
    the body parsed by its content type."""
    return {
        "method": scope["method"],
        "headers": {k: v for k, v in headers.items() if k not in hooks.DROPPED_HEADERS},
        "query": query_values(scope),
        "body": parse_body(body, headers.get("content-type", "")),
    }


def request_headers(scope) -> dict[str, str]:
    """Header names in lower case; a repeated header's values joined by `, `."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def query_values(scope) -> dict[str, Any]:
    text = scope.get("query_string", b"").decode("latin-1")
    parsed = parse_qs(text, keep_blank_values=True)
    return {name: values[0] if len(values) == 1 else values for name, values in parsed.items()}


async def read_body(receive, headers: dict[str, str], limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to pass `limit`."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HookError(413, "body_too_large", f"the body is over {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HookError(400, "disconnected", "the client left")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HookError(413, "body_too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def parse_body(body: bytes, content_type: str) -> Any:
    """JSON, form fields or text, by the content type; None when empty."""
    if not body:
        return None
    kind = content_type.split(";")[0].strip().lower()
    if kind.startswith("multipart/"):
        message = "multipart bodies are not taken: send JSON, form fields or text"
        raise HookError(415, "unsupported_media_type", message)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HookError(400, "bad_body", "the body is not UTF-8 text") from None
    if "\x00" in text:
        raise HookError(400, "bad_body", "the body holds a NUL character")
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise HookError(400, "bad_body", f"the body is not JSON: {exc}") from None
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qs(text, keep_blank_values=True)
        return {name: v[0] if len(v) == 1 else v for name, v in fields.items()}
    return text


async def sync_answer(run_id: int, timeout_s: float) -> tuple[int, Any, dict]:
    """Wait (up to `timeout_s`) for the run to end: its outputs, or 202 with its id."""
    ended = await wait_for_end(run_id, timeout_s)
    if ended is None:
        return 202, {"run": run_id}, {}
    status, outputs = ended
    if status != "succeeded":
        return 500, {"run": run_id, "status": status}, {}
    code = (outputs or {}).get("status_code")
    valid = isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599
    return (code if valid else 200), outputs, {}


async def wait_for_end(run_id: int, timeout_s: float) -> tuple[str, dict] | None:
    """The run's (status, outputs) once it ended, heard on its live group (and re-read from
    PostgreSQL every POLL_S, since live messages are at most once); None on timeout."""
    layer = get_channel_layer(LAYER)
    channel = await layer.new_channel()
    group = run_group(run_id)
    await layer.group_add(group, channel)
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                status, outputs = await database_sync_to_async(hooks.run_answer)(run_id)
                if status in RUN_TERMINAL:
                    return status, outputs
                await heard_end(layer, channel)
    except TimeoutError:
        return None
    finally:
        await layer.group_discard(group, channel)


async def heard_end(layer, channel: str) -> None:
    """Returns when a run.status event ending the run arrives, or after POLL_S."""
    try:
        async with asyncio.timeout(POLL_S):
            while True:
                message = await layer.receive(channel)
                for event in message.get("events", ()):
                    if event.get("type") == "run.status" and event.get("status") in RUN_TERMINAL:
                        return
    except TimeoutError:
        return


async def respond(send, status: int, body: Any, headers: dict[str, str]) -> None:
    content = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def describe_hooks(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: `/hooks/{token}/` is served outside DRF (above),
    so its operations are written here, one per method a webhook node may take."""
    result["paths"]["/hooks/{token}/"] = {
        method.lower(): hook_operation(method) for method in WEBHOOK_METHODS
    }
    return result


def hook_operation(method: str) -> dict:
    error = {"$ref": "#/components/schemas/ErrorBody"}
    run = {"type": "object", "properties": {"run": {"type": "integer"}}, "required": ["run"]}
    retry = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}
    operation = {
        "operationId": f"hooks_{method.lower()}",
        "summary": "Start a run of an active workflow's webhook (no login: the token is the "
        "credential); the webhook node says which one method it takes (POST by default).",
        "tags": ["hooks"],
        "security": [{}],  # public: the token in the path is the credential
        "parameters": [
            {
                "name": "token",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": f"^{TOKEN_PATTERN}$"},
            },
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": hooks.MAX_IDEMPOTENCY_KEY},
                "description": "a repeated key answers with the first run and starts none",
            },
        ],
        "responses": {
            "200": answer("sync: the run's outputs (an output `status_code` sets it)", {}),
            "202": answer("async, or sync past sync_timeout_s: the run started", run),
            "400": answer("a body that does not parse, or inputs the run needs", error),
            "401": answer("the signature does not match", error),
            "404": answer("no active webhook has this token", error),
            "405": answer("not the webhook's method", error),
            "413": answer("the body is over max_body_bytes", error),
            "415": answer("a multipart body", error),
            "429": answer("over the workflow's rate_per_min", error, retry),
            "500": answer("sync: the run failed or was cancelled", {"type": "object"}),
        },
    }
    if method not in ("GET", "DELETE"):
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": {}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    return operation


def answer(why: str, schema: dict, headers: dict | None = None) -> dict:
    found = {"description": why, "content": {"application/json": {"schema": schema}}}
    return found | ({"headers": headers} if headers else {})
