"""The `http` node: one HTTP request through httpx, guarded against server-side request forgery.

The guard resolves the host once, refuses the request when any address is private, loopback,
link-local, multicast, reserved, unspecified or otherwise not global (unless the engine setting
`http_allow_private` is true), and then connects to the very address it checked: the URL is
rewritten to the IP, the original `Host` header is sent and TLS uses the host name for SNI and
certificate checks, so a second DNS answer (rebinding) cannot redirect the connection.
Redirects are followed by hand, at most `MAX_REDIRECTS`, and every hop is checked the same way.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpx

from engine.handlers.base import Handler, HandlerContext, HandlerResult, NodeError
from engine.limits import MAX_HTTP_TIMEOUT_S

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 4xx answers worth another attempt (request timeout, conflict, too early, too many requests);
# every 5xx is, every other 4xx is not (the same request gets the same answer).
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")  # RFC 9110 field names
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters but tab

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def forbidden_reason(address: Address) -> str | None:
    """Why a destination address is refused (`"loopback"`, `"private"` …), or None."""
    for embedded in _embedded_ipv4(address):
        reason = forbidden_reason(embedded)
        if reason is not None:
            return reason
    for flag in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{flag}"):
            return flag.replace("_", "-")
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, NAT64) and would reach."""
    if address.version != 6:
        return []
    found = [address.ipv4_mapped, address.sixtofour]
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [embedded for embedded in found if embedded is not None]


async def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an IP literal is its own single address)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise NodeError(f"cannot resolve host {host!r}: {exc}", "dns") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise NodeError(f"cannot resolve host {host!r}: no addresses", "dns")
    return list(dict.fromkeys(addresses))


@dataclass(frozen=True)
class Destination:
    """Where one hop really goes: the checked address, and the names the server must see."""

    url: httpx.URL  # the URL with the host replaced by the checked IP
    host_header: str
    sni_hostname: str | None


async def pin(url: httpx.URL, allow_private: bool) -> Destination:
    """Resolve and check `url`'s host; the destination to connect to instead of the name."""
    if url.scheme not in ("http", "https") or not url.host:
        raise NodeError(
            f"only http and https URLs with a host are allowed, not {url}",
            "bad_url",
            retryable=False,
        )
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await resolve(url.host, port)
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise NodeError(
                    f"refused to connect to {url.host} ({address}): {reason} addresses are not "
                    "allowed",
                    "forbidden_destination",
                    retryable=False,
                )
    host_header = url.netloc.decode("ascii").rpartition("@")[2]
    sni = url.host if url.scheme == "https" and not _is_ip(url.host) else None
    return Destination(url.copy_with(host=str(addresses[0])), host_header, sni)


class PinningTransport:
    """Mixed into an httpx (or httpx2) transport: resolves and checks each request's host
    (`pin`) and connects to that checked address (the name kept in `Host` and TLS SNI), so a
    name that resolves to a public address when checked and a private one when connecting (DNS
    rebinding) cannot reach the private one. For clients built elsewhere (the LLM SDKs)."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def handle_async_request(self, request: Any) -> Any:
        destination = await pin(httpx.URL(str(request.url)), self.allow_private)
        request.url = type(request.url)(str(destination.url))
        request.headers["Host"] = destination.host_header
        if destination.sni_hostname:
            request.extensions = {**request.extensions, "sni_hostname": destination.sni_hostname}
        return await super().handle_async_request(request)  # type: ignore[misc]


class PinnedTransport(PinningTransport, httpx.AsyncHTTPTransport):
    """An httpx transport that connects only to checked addresses (`PinningTransport`)."""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class _Request:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    json_body: Any = None
    has_json: bool = False
    content: str | None = None

    def after_redirect(self, status: int, location: str) -> _Request:
        """The next hop: GET without a body after 303 (and 301/302 of a POST, as browsers do);
        credentials are dropped when the host changes."""
        url = self.url.join(location)
        headers = dict(self.headers)
        if url.host != self.url.host:
            headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        if status == 303 or (status in (301, 302) and self.method == "POST"):
            return _Request("GET" if self.method != "HEAD" else "HEAD", url, headers)
        return _Request(self.method, url, headers, self.json_body, self.has_json, self.content)


def _config_request(config: dict[str, Any]) -> tuple[_Request, float, bool, bool]:
    method = config.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise NodeError(
            f"config.method must be one of {', '.join(METHODS)}", "bad_config", retryable=False
        )
    raw_url = config.get("url")
    if not isinstance(raw_url, str) or not raw_url.strip():
        raise NodeError(
            f"config.url must be a URL string, got {raw_url!r}", "bad_config", retryable=False
        )
    try:
        url = httpx.URL(raw_url.strip())
        query = _query(config.get("query"))
        if query:  # httpx.URL(params=...) would replace the URL's own query, not extend it
            url = url.copy_merge_params(query)
    except httpx.InvalidURL as exc:
        raise NodeError(
            f"config.url is not a valid URL: {exc}", "bad_url", retryable=False
        ) from None
    headers = _headers(config.get("headers") or {})
    body = config.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    request = _Request(
        method.upper(),
        url,
        headers,
        config.get("json"),
        "json" in config,
        body,
    )
    timeout = config.get("timeout_s", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise NodeError(
            f"config.timeout_s must be a positive number, got {timeout!r}",
            "bad_config",
            retryable=False,
        )
    fail = config.get("fail_on_status", True)
    follow = config.get("follow_redirects", True)
    return request, float(timeout), bool(fail), bool(follow)


def _headers(headers: Any) -> dict[str, str]:
    """The headers to send. A value that cannot be sent is refused naming the header, never
    showing the value (it may hold a secret; httpx's own error would quote it)."""
    if not isinstance(headers, dict):
        raise NodeError(
            "config.headers must be an object of strings", "bad_config", retryable=False
        )
    result = {}
    for name, value in headers.items():
        name, value = str(name), str(value)
        if not _TOKEN.fullmatch(name):
            raise NodeError(
                f"config.headers: {name[:64]!r} is not a header name", "bad_config", retryable=False
            )
        if _BAD_VALUE.search(value) or not value.isascii():
            raise NodeError(
                f"config.headers.{name}: the value cannot be sent (line breaks, control "
                "characters or characters outside ASCII)",
                "bad_config",
                retryable=False,
            )
        result[name] = value
    return result


def _sent_secrets(ctx: HandlerContext) -> list[str]:
    """The secret values this node's headers may send (longest first), when a header's
    template reads `secrets`: the headers as rendered and every named secret."""
    raw = ctx.raw_config.get("headers") if isinstance(ctx.raw_config, dict) else None
    rendered = ctx.config.get("headers")
    if not isinstance(raw, dict) or not isinstance(rendered, dict):
        return []
    reading = [k for k, v in raw.items() if isinstance(v, str) and "secrets" in v]
    if not reading:
        return []
    values = {str(rendered.get(k, "")) for k in reading}
    scope = ctx.scope
    with_secrets = getattr(scope, "with_secrets", None)
    named = with_secrets().get("secrets") if with_secrets else scope.get("secrets")
    values.update(v for v in (named or {}).values() if isinstance(v, str))
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def _redact(value: Any, secrets: list[str]) -> Any:
    """`value` with every occurrence of the secrets in its strings replaced by `***`."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    return value


def _query(query: Any) -> dict[str, str] | None:
    if query is None:
        return None
    if not isinstance(query, dict):
        raise NodeError("config.query must be an object", "bad_config", retryable=False)
    return {str(k): _query_value(v) for k, v in query.items()}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds an HTTP `Retry-After` header asks to wait (delta seconds or an HTTP date),
    or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _parse_body(response: httpx.Response, raw: bytes) -> Any:
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    if "json" in response.headers.get("content-type", "").lower() and text.strip():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


async def _read(response: httpx.Response, limit: int) -> bytes:
    chunks = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise NodeError(
                f"response larger than {limit:,} bytes", "response_too_large", retryable=False
            )
        chunks.append(chunk)
    return b"".join(chunks)


class HttpRequest(Handler):
    type = "http"
    label = "HTTP request"
    category = "Network"
    description = "Calls a URL; outputs the status, headers and body (parsed when JSON)."
    icon = "globe"
    color = "#2563eb"
    side_effects = True
    secret_fields = ("headers",)
    config_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "method": {"enum": list(METHODS), "default": "GET"},
            "url": {"type": "string", "minLength": 1},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "query": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
            },
            "json": {"description": "A JSON body (sent as application/json)."},
            "body": {"type": "string", "description": "A raw text body (instead of json)."},
            "timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_HTTP_TIMEOUT_S,
                "default": 30,
            },
            "fail_on_status": {"type": "boolean", "default": True},
            "follow_redirects": {"type": "boolean", "default": True},
        },
        "required": ["url"],
        "additionalProperties": False,
        "not": {"required": ["json", "body"]},  # the message names both fields
    }

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        """The request; the secrets its headers sent are `***` in what it returns or raises
        (a server that echoes a header must not put it in the run's output)."""
        sent = _sent_secrets(ctx)
        try:
            result = await self._call(ctx)
        except NodeError as exc:
            raise NodeError(
                _redact(exc.message, sent), exc.type, exc.retryable, exc.retry_after_s
            ) from None
        except Exception as exc:  # what the executor would show as `Type: message`
            raise NodeError(_redact(f"{type(exc).__name__}: {exc}", sent), "exception") from None
        return HandlerResult(_redact(result.output, sent), result.handles) if sent else result

    async def _call(self, ctx: HandlerContext) -> HandlerResult:
        request, timeout, fail_on_status, follow = _config_request(ctx.config)
        allow_private = bool(ctx.settings.get("http_allow_private"))
        limit = int(ctx.settings.get("http_max_bytes") or MAX_RESPONSE_BYTES)
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                response, raw = await self._send(
                    client, request, allow_private, limit, seconds=timeout
                )
                location = response.headers.get("location")
                if not (follow and response.status_code in REDIRECT_STATUSES and location):
                    break
                request = request.after_redirect(response.status_code, location)
                ctx.log(f"{response.status_code} redirect to {request.url}")
            else:
                raise NodeError(
                    f"more than {MAX_REDIRECTS} redirects", "too_many_redirects", retryable=False
                )
        status = response.status_code
        if fail_on_status and status >= 400:
            raise NodeError(
                f"{request.method} {request.url} answered {status} {response.reason_phrase}",
                "http_status",
                retryable=status >= 500 or status in RETRYABLE_STATUSES,
                retry_after_s=retry_after(response.headers.get("retry-after")),
            )
        headers = dict(response.headers.items())
        return HandlerResult(
            {"status": status, "headers": headers, "body": _parse_body(response, raw)}
        )

    @staticmethod
    async def _send(
        client: httpx.AsyncClient,
        request: _Request,
        allow_private: bool,
        limit: int,
        seconds: float,
    ) -> tuple[httpx.Response, bytes]:
        destination = await pin(request.url, allow_private)
        extensions = {"sni_hostname": destination.sni_hostname} if destination.sni_hostname else {}
        outgoing = client.build_request(
            request.method,
            destination.url,
            headers={**request.headers, "Host": destination.host_header},
            json=request.json_body if request.has_json else None,
            content=request.content,
            extensions=extensions,
        )
        try:
            response = await client.send(outgoing, stream=True)
            try:
                raw = await _read(response, limit)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise NodeError(
                f"{request.method} {request.url} timed out after {seconds:g} s", "timeout"
            ) from None
        except httpx.HTTPError as exc:
            raise NodeError(
                f"{request.method} {request.url} failed: {exc or type(exc).__name__}", "connection"
            ) from None
        return response, raw
