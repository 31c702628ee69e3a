"""A local OpenAI- and Anthropic-compatible server for tests: the real wire formats, scripted.

`LLMServer` listens on 127.0.0.1 in a thread of its own (its own event loop, plain asyncio
streams, HTTP/1.1 with keep-alive and chunked responses). Each request takes the next
scripted `Reply` (or answers "ok"):

- `POST …/chat/completions`: a `chat.completion`, or with `stream: true` `data:` chunks
  (`chat.completion.chunk`), the usage chunk when `stream_options.include_usage`, `[DONE]`;
  tool calls as `tool_calls` deltas.
- `POST …/messages`: Anthropic's `message`, or its SSE events (`message_start`,
  `content_block_delta`, `message_delta` with the usage, `message_stop`).
- `Reply(status=429, headers={"Retry-After": "2"})`, `Reply(status=500)`, `Reply(raw=b"{")`.

`requests` keeps what each request sent (path, headers, JSON body, when it arrived and when
its answer was sent: `received_at`, `answered_at`, monotonic); `disconnected` is set
when a client closes a connection in the middle of a streamed answer. No test reaches the
internet: every test speaks to this server.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """One scripted answer. `text` is streamed in `chunks` (default: word by word), one every
    `delay_s`; `hang_s` keeps a stream open that long before it ends."""

    text: str = "ok"
    chunks: list[str] | None = None
    delay_s: float = 0.0
    hang_s: float = 0.0
    usage: tuple[int, int] | None = (7, 3)  # None: no usage reported (a stream without it)
    finish_reason: str = "stop"
    tool_calls: list[dict] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # the body as it is (malformed JSON, say)
    error: str = ""

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return self.chunks
        words = self.text.split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)]


class LLMServer:
    """See the module docstring. Use as a context manager, or `start()` / `stop()`."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        self.stream_started = threading.Event()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, *replies: Reply) -> LLMServer:
        self.replies.extend(replies)
        return self

    def start(self) -> LLMServer:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving -------------------------------------------------------------------------

    def _serve(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        self._server.close()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        carry = bytearray()  # a byte of the next request read while watching for a disconnect
        try:
            while await self._one_request(reader, writer, carry):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _one_request(self, reader, writer, carry: bytearray) -> bool:
        line = bytes(carry) + await reader.readline()
        carry.clear()
        if not line:
            return False
        method, path, _ = line.decode().split(" ", 2)
        headers = {}
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        request = {"method": method, "path": path, "headers": headers}
        request["received_at"] = time.monotonic()
        try:
            request["json"] = json.loads(body) if body else None
        except ValueError:
            request["json"] = None
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else Reply()
        await self._answer(reader, writer, request, reply, carry)
        request["answered_at"] = time.monotonic()  # the last byte of the answer is sent
        return True

    async def _answer(self, reader, writer, request: dict, reply: Reply, carry: bytearray):
        anthropic = request["path"].rstrip("/").endswith("/messages")
        body = request["json"] or {}
        if reply.raw is not None or reply.status != 200:
            raw = reply.raw if reply.raw is not None else _error_body(reply, anthropic)
            _head(writer, reply.status, {"Content-Type": "application/json", **reply.headers})
            writer.write(_chunk(raw) + b"0\r\n\r\n")
            await writer.drain()
            return
        if not body.get("stream"):
            payload = _anthropic_message(body, reply) if anthropic else _completion(body, reply)
            _head(writer, 200, {"Content-Type": "application/json", **reply.headers})
            writer.write(_chunk(json.dumps(payload).encode()) + b"0\r\n\r\n")
            await writer.drain()
            return
        events = _anthropic_events(body, reply) if anthropic else _completion_chunks(body, reply)
        await self._stream(reader, writer, events, reply, carry)

    async def _stream(self, reader, writer, events: list[bytes], reply: Reply, carry: bytearray):
        _head(writer, 200, {"Content-Type": "text/event-stream", **reply.headers})
        await writer.drain()
        self.stream_started.set()
        closed = asyncio.ensure_future(reader.read(1))  # b"": the client went away
        try:
            for i, event in enumerate(events):
                if i and reply.delay_s:
                    await asyncio.wait({closed}, timeout=reply.delay_s)
                if i == len(events) - 1 and reply.hang_s:
                    await asyncio.wait({closed}, timeout=reply.hang_s)
                if closed.done():
                    self.disconnected.set()
                    raise ConnectionResetError
                writer.write(_chunk(event))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            closed.cancel()
            await asyncio.gather(closed, return_exceptions=True)
            if not closed.cancelled() and closed.exception() is None:
                carry.extend(closed.result())  # the client's next request began


def _head(writer, status: int, headers: dict[str, str]) -> None:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(
        status, {429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "Status")
    )
    lines = [f"HTTP/1.1 {status} {reason}", "Transfer-Encoding: chunked"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _error_body(reply: Reply, anthropic: bool) -> bytes:
    message = reply.error or f"scripted status {reply.status}"
    if anthropic:
        return json.dumps(
            {"type": "error", "error": {"type": "api_error", "message": message}}
        ).encode()
    return json.dumps({"error": {"message": message, "type": "error", "code": None}}).encode()


def _usage(reply: Reply) -> dict:
    prompt, completion = reply.usage or (0, 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _tool_calls(reply: Reply) -> list[dict]:
    return [
        {
            "id": call.get("id", f"call_{i}"),
            "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call.get("arguments", {}))},
        }
        for i, call in enumerate(reply.tool_calls or [])
    ]


def _completion(body: dict, reply: Reply) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message = {"role": "assistant", "content": None, "tool_calls": _tool_calls(reply)}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": _usage(reply),
    }


def _sse(payload: Any, event: str | None = None) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {data}\n\n".encode()


def _completion_chunks(body: dict, reply: Reply) -> list[bytes]:
    base = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
    }

    def chunk(delta: dict, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse({**base, "choices": [choice]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in reply.pieces() if not reply.tool_calls]
    for i, call in enumerate(_tool_calls(reply)):
        events.append(chunk({"tool_calls": [{"index": i, **call}]}))
    events.append(chunk({}, "tool_calls" if reply.tool_calls else reply.finish_reason))
    if (body.get("stream_options") or {}).get("include_usage") and reply.usage is not None:
        events.append(_sse({**base, "choices": [], "usage": _usage(reply)}))
    events.append(_sse("[DONE]"))
    return events


def _anthropic_message(body: dict, reply: Reply) -> dict:
    prompt, completion = reply.usage or (0, 0)
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "test-model"),
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": "end_turn" if reply.finish_reason == "stop" else reply.finish_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": completion},
    }


def _anthropic_events(body: dict, reply: Reply) -> list[bytes]:
    prompt, completion = reply.usage or (0, 0)
    message = {**_anthropic_message(body, reply), "content": [], "stop_reason": None}
    message["usage"] = {"input_tokens": prompt, "output_tokens": 1}
    stop = "end_turn" if reply.finish_reason == "stop" else reply.finish_reason
    if reply.tool_calls:
        stop = "tool_use"
    events = [
        _sse({"type": "message_start", "message": message}, "message_start"),
        _sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
    ]
    for piece in reply.pieces():
        delta = {"type": "content_block_delta", "index": 0}
        delta["delta"] = {"type": "text_delta", "text": piece}
        events.append(_sse(delta, "content_block_delta"))
    events.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    for i, call in enumerate(reply.tool_calls or [], start=1):
        events += _anthropic_tool_use(i, call)
    events += [
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": completion},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return events


def _anthropic_tool_use(index: int, call: dict) -> list[bytes]:
    """A `tool_use` content block, its input streamed as JSON pieces."""
    block = {"type": "tool_use", "id": call.get("id", f"toolu_{index}"), "name": call["name"]}
    text = json.dumps(call.get("arguments", {}))
    half = len(text) // 2
    start = {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}}
    events = [_sse(start, "content_block_start")]
    for part in (text[:half], text[half:]):
        delta = {"type": "input_json_delta", "partial_json": part}
        events.append(
            _sse(
                {"type": "content_block_delta", "index": index, "delta": delta},
                "content_block_delta",
            )
        )
    events.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    return events
