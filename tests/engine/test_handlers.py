"""The built-in node types, each run through a HandlerContext built here (no executor)."""

import asyncio
import json
import socket
import subprocess
import sys
import time
from urllib.parse import parse_qs, unquote

import pytest
from jsonschema import Draft202012Validator

from engine.handlers import HandlerContext, NodeError, registry
from engine.handlers import http_request as http_module

INPUTS = {"customer_id": "c-1"}


def make_ctx(config, *, input=None, sources=None, scope=None, settings=None, logs=None):
    full_scope = {"inputs": INPUTS, "vars": {"limit": 10}, "input": input, **(scope or {})}
    log = logs.append if logs is not None else (lambda line: None)
    return HandlerContext(
        "node_a", config, input, 1, sources or {}, full_scope, log, settings or {}, config
    )


async def run(type_name, config, **kwargs):
    return await registry.get(type_name).run(make_ctx(config, **kwargs))


async def failure(type_name, config, **kwargs):
    with pytest.raises(NodeError) as info:
        await run(type_name, config, **kwargs)
    return info.value


# --- metadata and schemas -------------------------------------------------------------------

BUILTIN_TYPES = ["condition", "delay", "error", "http", "merge", "output", "router", "start"]
BUILTIN_TYPES += ["transform"]


def test_importing_engine_handlers_registers_every_builtin_type():
    assert set(BUILTIN_TYPES) <= set(registry.names())


@pytest.mark.parametrize("type_name", BUILTIN_TYPES)
def test_each_type_describes_itself_for_the_palette(type_name):
    described = registry.get(type_name).describe()
    assert described["label"] and described["category"] and described["description"]
    assert described["icon"] and described["color"].startswith("#")
    assert "error" not in described["outputs"]
    Draft202012Validator.check_schema(described["config_schema"])


def schema_problems(type_name, config):
    validator = Draft202012Validator(registry.get(type_name).config_schema)
    return [
        "config"
        + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        + f": {e.message}"
        for e in validator.iter_errors(config)
    ]


@pytest.mark.parametrize(
    ("type_name", "config", "named"),
    [
        ("condition", {}, "'expression' is a required property"),
        ("condition", {"expression": 3}, "config.expression: 3 is not of type 'string'"),
        ("router", {"cases": [{"handle": "Bad!", "expression": "x"}]}, "config.cases[0].handle"),
        ("router", {"cases": [{"handle": "error", "expression": "x"}]}, "config.cases[0].handle"),
        ("router", {"cases": [{"handle": "a"}]}, "'expression' is a required property"),
        ("merge", {"mode": "zip"}, "config.mode: 'zip' is not one of"),
        ("delay", {"seconds": -1}, "config.seconds: -1 is less than the minimum of 0"),
        ("delay", {"seconds": "soon"}, "config.seconds: 'soon' is not of type 'number'"),
        ("http", {"method": "GET"}, "'url' is a required property"),
        ("http", {"url": "https://x", "method": "FETCH"}, "config.method: 'FETCH' is not one of"),
        ("http", {"url": "https://x", "timeout_s": 0}, "config.timeout_s"),
        ("http", {"url": "https://x", "json": {}, "body": "b"}, "['json', 'body']"),
        ("http", {"url": "https://x", "headers": {"a": 1}}, "config.headers.a"),
        ("error", {"when": "true"}, "'message' is a required property"),
        ("output", {}, "'value' is a required property"),
        ("transform", {"output": 1, "extra": 2}, "'extra' was unexpected"),
        ("start", {"x": 1}, "'x' was unexpected"),
    ],
)
def test_schema_rejects_a_bad_config_naming_the_field(type_name, config, named):
    problems = schema_problems(type_name, config)
    assert any(named in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("type_name", "config"),
    [
        ("start", {}),
        ("transform", {"output": {"a": "{{ inputs.customer_id }}"}}),
        ("condition", {"expression": "input.total > 10"}),
        ("router", {"cases": [{"handle": "big", "expression": "x > 1"}], "default": "small"}),
        ("merge", {"mode": "list"}),
        ("delay", {"seconds": 1.5}),
        ("http", {"url": "https://api.example.com", "method": "POST", "json": {"a": 1}}),
        ("error", {"message": "bad", "when": "input.x < 0"}),
        ("output", {"value": None}),
    ],
)
def test_schema_accepts_a_good_config(type_name, config):
    assert schema_problems(type_name, config) == []


def test_engine_modules_do_not_import_django():
    code = (
        "import sys, engine.handlers, engine.expressions\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- flow and data types --------------------------------------------------------------------


async def test_start_outputs_the_run_inputs():
    result = await run("start", {})
    assert result.output == INPUTS
    assert result.handles == ("out",)


async def test_transform_outputs_its_rendered_output():
    result = await run("transform", {"output": {"id": "c-1", "n": [1, 2]}})
    assert result.output == {"id": "c-1", "n": [1, 2]}


@pytest.mark.parametrize(("total", "handle"), [(11, "true"), (10, "false")])
async def test_condition_chooses_a_handle_and_passes_its_input(total, handle):
    result = await run(
        "condition", {"expression": "input.total > vars.limit"}, input={"total": total}
    )
    assert result.handles == (handle,)
    assert result.output == {"total": total}


async def test_condition_expression_error_fails_the_node_naming_field_and_path():
    error = await failure("condition", {"expression": "input.nope > 1"}, input={"total": 1})
    assert error.type == "expression"
    assert error.message == "config.expression: input.nope: no such key"


ROUTER = {
    "cases": [
        {"handle": "big", "expression": "input.n > 100"},
        {"handle": "medium", "expression": "input.n > 10"},
        {"handle": "also_medium", "expression": "input.n > 5"},
    ]
}


@pytest.mark.parametrize(("n", "handle"), [(500, "big"), (50, "medium"), (7, "also_medium")])
async def test_router_takes_the_first_true_case(n, handle):
    result = await run("router", ROUTER, input={"n": n})
    assert result.handles == (handle,)
    assert result.output == {"n": n}


async def test_router_falls_back_to_the_default_handle():
    assert (await run("router", ROUTER, input={"n": 1})).handles == ("other",)
    custom = {**ROUTER, "default": "small"}
    assert (await run("router", custom, input={"n": 1})).handles == ("small",)


def test_router_handles_are_its_cases_then_the_default():
    router = registry.get("router")
    assert router.output_handles(ROUTER) == ("big", "medium", "also_medium", "other")
    assert router.output_handles({"cases": [], "default": "rest"}) == ("rest",)
    assert router.output_handles({"cases": "broken"}) == ("other",)


async def test_router_case_error_names_the_case():
    config = {"cases": [{"handle": "a", "expression": "1 / 0"}]}
    error = await failure("router", config, input={})
    assert error.message == "config.cases[0].expression: 1 / 0: division by zero"


SOURCES = {"left": {"a": 1}, "right": [2]}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("object", SOURCES), ("list", [{"a": 1}, [2]]), ("first", {"a": 1})],
)
async def test_merge_combines_sources_by_mode(mode, expected):
    assert (await run("merge", {"mode": mode}, sources=SOURCES)).output == expected


async def test_merge_defaults_to_object_mode():
    assert (await run("merge", {}, sources=SOURCES)).output == SOURCES


async def test_delay_waits_then_passes_its_input():
    started = time.monotonic()
    result = await run("delay", {"seconds": 0.05}, input={"x": 1})
    assert time.monotonic() - started >= 0.05
    assert result.output == {"x": 1}


async def test_delay_is_cancelled_within_a_second():
    task = asyncio.create_task(run("delay", {"seconds": 30}))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1


async def test_delay_refuses_seconds_that_rendered_to_a_non_number():
    error = await failure("delay", {"seconds": "soon"})
    assert error.type == "bad_config"
    assert "config.seconds must be a number" in error.message


async def test_error_node_fails_with_its_message():
    error = await failure("error", {"message": "order total is negative"})
    assert (error.message, error.type) == ("order total is negative", "error")


async def test_error_node_passes_its_input_when_the_condition_is_false():
    config = {"message": "negative", "when": "input.total < 0"}
    assert (await run("error", config, input={"total": 3})).output == {"total": 3}
    error = await failure("error", config, input={"total": -3})
    assert error.message == "negative"


async def test_output_node_outputs_its_value():
    assert (await run("output", {"value": [1, {"a": None}]})).output == [1, {"a": None}]


# --- http: a tiny local server ----------------------------------------------------------------


class Server:
    """A minimal HTTP/1.1 server on 127.0.0.1 that records what it was asked."""

    def __init__(self):
        self.requests = []
        self.port = None
        self._server = None
        self._handlers = set()

    async def start(self):
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        for handler in self._handlers:
            handler.cancel()  # e.g. /slow, still sleeping after its client gave up
        self._server.close()
        await self._server.wait_closed()

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    async def _handle(self, reader, writer):
        self._handlers.add(asyncio.current_task())
        try:
            method, target, _ = (await reader.readline()).decode().split(" ", 2)
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            path, _, query = target.partition("?")
            self.requests.append({"method": method, "path": path, "headers": headers})
            status, extra, payload, ctype = await self._route(method, path, query, headers, body)
            head = f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\n"
            head += f"Content-Length: {len(payload)}\r\nConnection: close\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            writer.write(head.encode() + b"\r\n" + payload)
            await writer.drain()
        finally:
            writer.close()

    async def _route(self, method, path, query, headers, body):
        args = {k: v[0] for k, v in parse_qs(query).items()}
        if path == "/json":
            echo = {
                "method": method,
                "query": args,
                "host": headers.get("host"),
                "body": body.decode(),
                "type": headers.get("content-type"),
                "auth": headers.get("authorization"),
            }
            return 200, {}, json.dumps(echo).encode(), "application/json"
        if path == "/text":
            return 200, {"X-Kind": "text"}, b"hello", "text/plain"
        if path.startswith("/status/"):
            return int(path[8:]), {}, b'{"error": "nope"}', "application/json"
        if path == "/redirect":
            code = int(args.get("code", 302))
            return code, {"Location": unquote(args["to"])}, b"", "text/plain"
        if path == "/loop":
            return 302, {"Location": "/loop"}, b"", "text/plain"
        if path == "/big":
            return 200, {}, b"x" * 5000, "text/plain"
        if path == "/slow":
            await asyncio.sleep(5)
        return 404, {}, b"", "text/plain"


@pytest.fixture
async def server():
    server = await Server().start()
    yield server
    await server.stop()


ALLOW = {"http_allow_private": True}


@pytest.fixture
async def fake_dns(monkeypatch):
    """Resolve made-up names to chosen addresses (and count the lookups)."""
    answers = {}
    lookups = []
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return answers, lookups


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/json", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:{port}/json", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/json", "loopback"),
        ("http://0.0.0.0:{port}/json", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://localhost:{port}/json", "loopback"),
        ("http://100.64.0.1/", "not globally routable"),
    ],
)
async def test_http_refuses_internal_destinations(server, url, reason):
    error = await failure("http", {"url": url.format(port=server.port)})
    assert error.type == "forbidden_destination"
    assert f"{reason} addresses are not allowed" in error.message
    assert server.requests == []


async def test_http_refuses_a_name_when_any_of_its_addresses_is_private(fake_dns):
    answers, _ = fake_dns
    answers["mixed.example.test"] = ["93.184.216.34", "10.0.0.7"]
    error = await failure("http", {"url": "https://mixed.example.test/"})
    assert error.type == "forbidden_destination"
    assert "10.0.0.7" in error.message


async def test_http_get_parses_a_json_body(server):
    config = {"url": server.url("/json"), "query": {"page": 2, "all": True}}
    result = await run("http", config, settings=ALLOW)
    assert result.output["status"] == 200
    assert result.output["headers"]["content-type"] == "application/json"
    assert result.output["body"]["query"] == {"page": "2", "all": "true"}
    assert result.output["body"]["method"] == "GET"


async def test_http_query_extends_the_query_of_the_url(server):
    config = {"url": server.url("/json?a=1"), "query": {"b": "x y"}}
    result = await run("http", config, settings=ALLOW)
    assert result.output["body"]["query"] == {"a": "1", "b": "x y"}


async def test_http_post_sends_json_and_headers(server):
    config = {
        "method": "POST",
        "url": server.url("/json"),
        "json": {"order": 7},
        "headers": {"Authorization": "Bearer t0k3n"},
    }
    body = (await run("http", config, settings=ALLOW)).output["body"]
    assert json.loads(body["body"]) == {"order": 7}
    assert body["type"] == "application/json"
    assert body["auth"] == "Bearer t0k3n"


async def test_http_text_body_stays_text(server):
    result = await run(
        "http", {"url": server.url("/text"), "method": "PUT", "body": "hi"}, settings=ALLOW
    )
    assert result.output["body"] == "hello"
    assert result.output["headers"]["x-kind"] == "text"


async def test_http_connects_to_the_checked_address_and_sends_the_original_host(server, fake_dns):
    answers, lookups = fake_dns
    answers["api.example.test"] = ["127.0.0.1"]
    url = f"http://api.example.test:{server.port}/json"
    result = await run("http", {"url": url}, settings=ALLOW)
    assert result.output["body"]["host"] == f"api.example.test:{server.port}"
    assert lookups == ["api.example.test"]  # one lookup: the connection used the checked IP


async def test_http_fails_on_an_error_status_by_default(server):
    error = await failure("http", {"url": server.url("/status/404")}, settings=ALLOW)
    assert error.type == "http_status"
    assert "answered 404" in error.message


async def test_http_can_return_an_error_status_as_output(server):
    config = {"url": server.url("/status/503"), "fail_on_status": False}
    result = await run("http", config, settings=ALLOW)
    assert result.output["status"] == 503
    assert result.output["body"] == {"error": "nope"}


async def test_http_follows_redirects(server):
    logs = []
    url = server.url("/redirect?to=%2Fjson%3Fhop%3D2")
    result = await run("http", {"url": url}, settings=ALLOW, logs=logs)
    assert result.output["status"] == 200
    assert result.output["body"]["query"] == {"hop": "2"}
    assert logs and "302 redirect" in logs[0]


async def test_http_303_turns_a_post_into_a_get(server):
    config = {"method": "POST", "url": server.url("/redirect?code=303&to=%2Fjson"), "json": {}}
    result = await run("http", config, settings=ALLOW)
    assert result.output["body"]["method"] == "GET"


async def test_http_redirect_to_another_host_drops_credentials(server, fake_dns):
    answers, _ = fake_dns
    answers["other.example.test"] = ["127.0.0.1"]
    target = f"http://other.example.test:{server.port}/json"
    config = {
        "url": server.url(f"/redirect?to={target}"),
        "headers": {"Authorization": "Bearer secret"},
    }
    result = await run("http", config, settings=ALLOW)
    assert result.output["body"]["auth"] is None


async def test_http_checks_every_redirect_hop(server, monkeypatch):
    # Pretend 127.0.0.1 is public so the first hop is allowed; its redirect to 127.0.0.2 is not.
    real = http_module.forbidden_reason
    monkeypatch.setattr(
        http_module,
        "forbidden_reason",
        lambda address: None if str(address) == "127.0.0.1" else real(address),
    )
    config = {"url": server.url(f"/redirect?to=http://127.0.0.2:{server.port}/json")}
    error = await failure("http", config)
    assert error.type == "forbidden_destination"
    assert "127.0.0.2" in error.message
    assert [r["path"] for r in server.requests] == ["/redirect"]


async def test_http_gives_up_after_five_redirects(server):
    error = await failure("http", {"url": server.url("/loop")}, settings=ALLOW)
    assert error.type == "too_many_redirects"
    assert len(server.requests) == 6


async def test_http_limits_the_response_size(server):
    settings = {**ALLOW, "http_max_bytes": 1000}
    error = await failure("http", {"url": server.url("/big")}, settings=settings)
    assert error.type == "response_too_large"


async def test_http_times_out(server):
    started = time.monotonic()
    error = await failure("http", {"url": server.url("/slow"), "timeout_s": 0.3}, settings=ALLOW)
    assert error.type == "timeout"
    assert "timed out after 0.3 s" in error.message
    assert time.monotonic() - started < 3


async def test_http_is_cancelled_within_a_second(server):
    task = asyncio.create_task(run("http", {"url": server.url("/slow")}, settings=ALLOW))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1


async def test_http_unknown_host_is_a_dns_error(fake_dns):
    error = await failure("http", {"url": "https://nowhere.example.test/"})
    assert error.type == "dns"
    assert "nowhere.example.test" in error.message


@pytest.mark.parametrize("url", ["ftp://example.com/file", "file:///etc/passwd", "example.com"])
async def test_http_refuses_other_schemes(url):
    error = await failure("http", {"url": url})
    assert error.type == "bad_url"


def test_http_is_marked_as_having_side_effects():
    assert registry.get("http").side_effects


# --- through the engine ---------------------------------------------------------------------


async def test_builtins_run_a_workflow_end_to_end_through_the_engine():
    from engine import Execution, Graph, load_document, validate_document

    document = load_document(
        json.dumps(
            {
                "version": 1,
                "name": "orders",
                "inputs": {"n": {"type": "number", "default": 5}},
                "variables": {"threshold": 3},
                "nodes": [
                    {"id": "begin", "type": "start"},
                    {
                        "id": "calc",
                        "type": "transform",
                        "config": {"output": {"n": "{{ inputs.n }}"}},
                    },
                    {
                        "id": "big",
                        "type": "condition",
                        "config": {"expression": "calc.n > vars.threshold"},
                    },
                    {"id": "small", "type": "transform", "config": {"output": "small"}},
                    {"id": "join", "type": "merge", "config": {"mode": "first"}},
                    {
                        "id": "guard",
                        "type": "error",
                        "config": {"message": "neg", "when": "input.n < 0"},
                    },
                    {"id": "result", "type": "output", "config": {"value": "n={{ input.n }}"}},
                ],
                "edges": [
                    {"id": "e1", "source": "begin", "target": "calc"},
                    {"id": "e2", "source": "calc", "target": "big"},
                    {"id": "e3", "source": "big", "source_handle": "true", "target": "join"},
                    {"id": "e4", "source": "big", "source_handle": "false", "target": "small"},
                    {"id": "e5", "source": "small", "target": "join"},
                    {"id": "e6", "source": "join", "target": "guard"},
                    {"id": "e7", "source": "guard", "target": "result"},
                ],
            }
        )
    )
    assert validate_document(document) == []
    report = (await Execution(Graph.from_document(document), inputs={}).run()).to_dict()
    assert report["status"] == "succeeded"
    assert report["outputs"] == {"result": "n=5"}
    assert report["nodes"]["small"]["status"] == "skipped"
