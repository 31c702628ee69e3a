"""The `llm` node through the engine, with the real `openai` and `anthropic` SDKs against the
local test server (tests/llm_server.py): streamed text as `node.stream` events, usage and the
run's token budget, structured output, provider errors that say whether a retry can help,
the key never shown, the private-address guard, cancellation closing the request."""

from __future__ import annotations

import asyncio
import ipaddress
import json

import pytest

from engine import Execution, Graph, load_document, validate_document
from engine.handlers import http_request
from engine.handlers import registry as builtins
from tests.llm_server import LLMServer, Reply

KEY = "sk-test-KEY-4242"
OPTIONS = {"http_allow_private": True, "secrets": {"llm_key": KEY}}


@pytest.fixture
def server():
    with LLMServer() as running:
        yield running


def llm(server: LLMServer, **config) -> dict:
    base = {"model": "test-model", "base_url": server.url, "api_key_secret": "llm_key"}
    return {"id": "ask", "type": "llm", "config": {**base, "prompt": "Say hi", **config}}


def document(*nodes: dict, settings: dict | None = None, edges: list | None = None) -> dict:
    return {
        "version": 1,
        "name": "llm",
        "settings": settings or {},
        "nodes": list(nodes),
        "edges": edges or [],
    }


async def run(doc: dict, options: dict | None = None):
    loaded = load_document(doc)
    problems = [p for p in validate_document(loaded, registry=builtins) if p.severity == "error"]
    assert not problems, problems
    events = []
    execution = Execution(
        Graph.from_document(loaded),
        sink=events.append,
        options=options if options is not None else OPTIONS,
    )
    report = await execution.run()
    return report, [e.to_dict() for e in events]


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


async def test_streamed_answer_arrives_as_stream_events_whose_text_is_the_output(server):
    words = [f" w{i}" for i in range(300)]
    server.reply(Reply(chunks=words, usage=(12, 300)))
    report, events = await run(document(llm(server)))
    node = report.to_dict()["nodes"]["ask"]
    assert node["status"] == "succeeded"
    streamed = of_type(events, "node.stream")
    assert "".join(e["text"] for e in streamed) == "".join(words) == node["output"]["text"]
    assert 1 < len(streamed) < 300  # coalesced, at most 200 characters each
    assert all(len(e["text"]) <= 200 + 4 for e in streamed)
    assert all(e["node"] == "ask" and e["attempt"] == 1 for e in streamed)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(events) + 1))
    succeeded = next(e for e in events if e.get("status") == "succeeded" and e["node"] == "ask")
    assert succeeded["seq"] > streamed[-1]["seq"]
    assert succeeded["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 300,
        "model": "test-model",
    }
    assert node["output"]["usage"] == {"prompt_tokens": 12, "completion_tokens": 300}
    assert node["output"]["finish_reason"] == "stop"
    assert report.to_dict()["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 300,
        "total_tokens": 312,
    }
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"
    assert sent["json"]["stream"] is True
    assert sent["json"]["stream_options"] == {"include_usage": True}
    assert sent["json"]["messages"] == [{"role": "user", "content": "Say hi"}]
    assert KEY not in json.dumps(events) and KEY not in json.dumps(report.to_dict())


async def test_templates_system_and_messages_are_sent_rendered(server):
    node = llm(
        server,
        system="You are {{ vars.persona }}",
        messages=[{"role": "assistant", "content": "Hello"}],
        prompt="Summarise {{ inputs.topic }}",
        temperature=0.2,
        max_tokens=50,
    )
    doc = document(node)
    doc["variables"] = {"persona": "terse"}
    doc["inputs"] = {"topic": {"type": "string", "default": "rivers"}}
    report, _ = await run(doc)
    assert report.to_dict()["nodes"]["ask"]["status"] == "succeeded"
    body = server.requests[0]["json"]
    assert body["messages"] == [
        {"role": "system", "content": "You are terse"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Summarise rivers"},
    ]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50


async def test_anthropic_provider_streams_through_the_anthropic_sdk(server):
    server.reply(Reply(text="Bonjour tout le monde", usage=(9, 4)))
    node = llm(server, provider="anthropic", base_url=server.url.removesuffix("/v1"))
    report, events = await run(document(node))
    output = report.to_dict()["nodes"]["ask"]["output"]
    assert output["text"] == "Bonjour tout le monde"
    assert output["usage"] == {"prompt_tokens": 9, "completion_tokens": 4}
    assert output["finish_reason"] == "end_turn"
    assert "".join(e["text"] for e in of_type(events, "node.stream")) == output["text"]
    assert server.requests[0]["path"] == "/v1/messages"
    headers = server.requests[0]["headers"]
    assert KEY in (headers.get("x-api-key"), headers.get("authorization", "")[7:])


async def test_structured_output_is_parsed_and_a_mismatch_is_invalid_output_then_retried(server):
    schema = {
        "type": "object",
        "properties": {"mood": {"enum": ["good", "bad"]}},
        "required": ["mood"],
    }
    server.reply(Reply(text='{"mood": "meh"}'), Reply(text='```json\n{"mood": "good"}\n```'))
    node = llm(server, response_format=schema)
    node["retry"] = {"max_attempts": 2}
    report, events = await run(document(node))
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["status"] == "succeeded" and ask["attempts"] == 2
    assert ask["output"]["json"] == {"mood": "good"}
    retrying = next(e for e in events if e.get("status") == "retrying")
    assert retrying["error"]["type"] == "invalid_output"
    assert "mood: 'meh' is not one of ['good', 'bad']" in retrying["error"]["message"]
    assert retrying["usage"]["completion_tokens"] == 3
    assert server.requests[0]["json"]["response_format"]["json_schema"]["schema"] == schema


async def test_invalid_output_without_retries_fails_the_node(server):
    server.reply(Reply(text="not json at all"))
    report, _ = await run(document(llm(server, response_format={"type": "object"})))
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["status"] == "failed"
    assert ask["error"]["type"] == "invalid_output"
    assert ask["error"]["message"].startswith("the answer is not JSON")


@pytest.mark.parametrize(
    ("reply", "kind", "retryable", "after"),
    [
        (Reply(status=429, headers={"Retry-After": "3"}), "rate_limited", True, 3.0),
        (Reply(status=500), "provider_error", True, None),
        (Reply(raw=b'{"choices": [ nope'), "provider_error", True, None),
        (
            Reply(status=401, error="Incorrect API key provided: sk-test-KEY-4242"),
            "provider_rejected",
            False,
            None,
        ),
        (Reply(status=404, error="The model does not exist"), "provider_rejected", False, None),
    ],
)
async def test_provider_errors_say_whether_a_retry_can_help(server, reply, kind, retryable, after):
    from engine.handlers.base import HandlerContext, NodeError
    from engine.handlers.llm import Llm

    server.reply(reply)
    config = llm(server)["config"]
    ctx = HandlerContext(
        "ask",
        config,
        None,
        1,
        {},
        {"secrets": OPTIONS["secrets"]},
        print,
        {"http_allow_private": True},
    )
    with pytest.raises(NodeError) as caught:
        await Llm().run(ctx)
    error = caught.value
    assert (error.type, error.retryable, error.retry_after_s) == (kind, retryable, after)
    assert KEY not in error.message
    assert "test-model" in error.message and server.url in error.message


async def test_a_call_that_could_pass_the_run_budget_fails_it_before_it_is_made(server):
    server.reply(Reply(text="first answer", usage=(40, 50)))
    first = llm(server)
    second = {**llm(server, max_tokens=20), "id": "again"}
    edges = [{"id": "e", "source": "ask", "target": "again"}]
    doc = document(first, second, settings={"max_tokens": 100}, edges=edges)
    report, _ = await run(doc)
    data = report.to_dict()
    assert data["nodes"]["ask"]["status"] == "succeeded"
    assert data["nodes"]["again"]["status"] == "failed"
    assert data["nodes"]["again"]["error"]["type"] == "budget_exceeded"
    assert "settings.max_tokens" in data["nodes"]["again"]["error"]["message"]
    assert data["status"] == "failed"
    assert len(server.requests) == 1  # the second call was never made
    assert server.requests[0]["json"]["max_tokens"] < 100  # the first was bounded by the budget
    assert data["usage"]["total_tokens"] == 90


async def test_a_loopback_base_url_is_refused_unless_private_addresses_are_allowed(server):
    report, _ = await run(document(llm(server)), {"secrets": OPTIONS["secrets"]})
    error = report.to_dict()["nodes"]["ask"]["error"]
    assert error["type"] == "forbidden_destination"
    assert "loopback" in error["message"]
    assert server.requests == []


def rebinding_dns(monkeypatch, answers: list[str]) -> list[str]:
    """A DNS server for `llm.rebind.test` that answers each lookup with the next address (the
    last one from then on), like a rebinding attacker's; the names looked up are returned."""
    asked: list[str] = []

    async def resolve(host: str, port: int):
        asked.append(host)
        if host != "llm.rebind.test":
            return [ipaddress.ip_address(host)]
        return [ipaddress.ip_address(answers[min(len(asked), len(answers)) - 1])]

    monkeypatch.setattr(http_request, "resolve", resolve)
    return asked


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_base_url_name_that_rebinds_to_loopback_is_refused_when_connecting(
    server, monkeypatch, provider
):
    # checked: a public address; when the SDK connects: the local server (loopback)
    asked = rebinding_dns(monkeypatch, ["93.184.216.34", "127.0.0.1"])
    base_url = server.url.replace("127.0.0.1", "llm.rebind.test")
    node = llm(server, base_url=base_url, provider=provider)
    node["retry"] = {"max_attempts": 3}
    report, _ = await run(document(node), {"secrets": OPTIONS["secrets"]})
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["error"]["type"] == "forbidden_destination", ask["error"]
    assert "llm.rebind.test (127.0.0.1): loopback" in ask["error"]["message"]
    assert ask["attempts"] == 1  # a blocked address is not retried
    assert asked == ["llm.rebind.test", "llm.rebind.test"]  # checked, then checked at connect
    assert server.requests == []  # nothing reached the loopback server


async def test_the_sdk_connects_to_the_checked_address_not_the_name(server, monkeypatch):
    # `llm.rebind.test` exists in no real DNS: the request reaches the server only because the
    # connection goes to the address the check resolved, with the name kept in Host
    rebinding_dns(monkeypatch, ["127.0.0.1"])
    base_url = server.url.replace("127.0.0.1", "llm.rebind.test")
    server.reply(Reply(chunks=["pinned"], usage=(1, 1)))
    report, _ = await run(document(llm(server, base_url=base_url)))
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["status"] == "succeeded", ask["error"]
    assert ask["output"]["text"] == "pinned"
    assert server.requests[0]["headers"]["host"] == base_url.split("/")[2]


async def test_a_missing_secret_names_it_and_calls_nothing(server):
    node = llm(server, api_key_secret="nope")
    node["retry"] = {"max_attempts": 3}
    report, _ = await run(document(node))
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["error"]["type"] == "missing_secret"
    assert "'nope'" in ask["error"]["message"]
    assert server.requests == []


async def test_cancelling_the_run_mid_stream_closes_the_http_request(server):
    server.reply(Reply(chunks=["a"] * 1000, delay_s=0.05))
    loaded = load_document(document(llm(server)))
    events = []
    execution = Execution(Graph.from_document(loaded), sink=events.append, options=OPTIONS)
    task = asyncio.ensure_future(execution.run())
    while not of_type([e.to_dict() for e in events], "node.stream"):
        await asyncio.sleep(0.02)
    execution.cancel("by user")
    report = await asyncio.wait_for(task, 5)
    assert report.to_dict()["nodes"]["ask"]["status"] == "cancelled"
    assert await asyncio.to_thread(server.disconnected.wait, 5)
    await asyncio.sleep(0.1)  # past the stream's flush interval: nothing more is sent
    kinds = [(e.type, e.status) for e in events]
    cancelled = kinds.index(("node.status", "cancelled"))
    assert ("node.stream", None) not in kinds[cancelled:]


def test_config_bounds_are_checked_on_save():
    doc = document(
        {
            "id": "ask",
            "type": "llm",
            "config": {"model": "m", "prompt": "x", "temperature": 5, "max_tokens": 0},
        }
    )
    problems = validate_document(load_document(doc), registry=builtins)
    messages = " ".join(p.message for p in problems if p.code == "bad_config")
    assert "temperature" in messages and "max_tokens" in messages


def child_runner(outputs: dict, calls: list):
    async def run_subworkflow(
        workflow, inputs, depth, node_id, *, attempt=1, iteration=None, log=None
    ):
        calls.append((workflow, inputs, depth, node_id, attempt, iteration))
        return outputs[workflow]

    return run_subworkflow


async def test_agent_runs_each_tool_call_as_a_child_run_and_answers_with_their_outputs(server):
    server.reply(
        Reply(
            tool_calls=[
                {"id": "c1", "name": "workflow_7", "arguments": {"city": "Oslo"}},
                {"id": "c2", "name": "workflow_8", "arguments": {}},
            ],
            usage=(30, 10),
        ),
        Reply(text="Oslo: 4 degrees at noon", usage=(60, 8)),
    )
    calls: list = []
    runner = child_runner({7: {"temp": 4}, 8: {"time": "noon"}}, calls)
    report, events = await run(
        document(llm(server, tools=[7, 8], max_turns=3)), {**OPTIONS, "run_subworkflow": runner}
    )
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["status"] == "succeeded", ask["error"]
    output = ask["output"]
    assert output["text"] == "Oslo: 4 degrees at noon"
    assert output["turns"] == 2
    assert output["usage"] == {"prompt_tokens": 90, "completion_tokens": 18}
    assert output["tool_calls"] == [
        {"turn": 1, "workflow": 7, "inputs": {"city": "Oslo"}, "output": {"temp": 4}},
        {"turn": 1, "workflow": 8, "inputs": {}, "output": {"time": "noon"}},
    ]
    assert calls == [
        (7, {"city": "Oslo"}, 1, "ask", 1, "ask[0]"),
        (8, {}, 1, "ask", 1, "ask[1]"),
    ]
    first, second = (r["json"] for r in server.requests)
    assert [t["function"]["name"] for t in first["tools"]] == ["workflow_7", "workflow_8"]
    sent = second["messages"]
    assert sent[1]["role"] == "assistant" and len(sent[1]["tool_calls"]) == 2
    assert sent[2] == {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 4}'}
    assert sent[3] == {"role": "tool", "tool_call_id": "c2", "content": '{"time": "noon"}'}
    logs = [e["message"] for e in of_type(events, "node.log")]
    assert "turn 1: the model runs workflow 7" in logs


async def test_an_agent_that_keeps_calling_tools_stops_at_max_turns(server):
    loop = Reply(tool_calls=[{"id": "c", "name": "workflow_7", "arguments": {}}])
    server.reply(loop, loop)
    runner = child_runner({7: {}}, [])
    report, _ = await run(
        document(llm(server, tools=[7], max_turns=2)), {**OPTIONS, "run_subworkflow": runner}
    )
    error = report.to_dict()["nodes"]["ask"]["error"]
    assert error["type"] == "max_turns"
    assert "after 2 turns" in error["message"]


async def test_each_tool_call_records_the_turn_that_asked_for_it(server):
    server.reply(
        Reply(tool_calls=[{"id": "c1", "name": "workflow_7", "arguments": {"q": "a"}}]),
        Reply(tool_calls=[{"id": "c2", "name": "workflow_8", "arguments": {"q": "b"}}]),
        Reply(text="done"),
    )
    calls: list = []
    runner = child_runner({7: {"a": 1}, 8: {"b": 2}}, calls)
    report, events = await run(
        document(llm(server, tools=[7, 8], max_turns=4)), {**OPTIONS, "run_subworkflow": runner}
    )
    output = report.to_dict()["nodes"]["ask"]["output"]
    assert output["turns"] == 3
    assert output["tool_calls"] == [
        {"turn": 1, "workflow": 7, "inputs": {"q": "a"}, "output": {"a": 1}},
        {"turn": 2, "workflow": 8, "inputs": {"q": "b"}, "output": {"b": 2}},
    ]
    assert [call[-1] for call in calls] == ["ask[0]", "ask[1]"]  # child run k = tool call k
    logs = [e["message"] for e in of_type(events, "node.log")]
    assert logs[:2] == ["turn 1: the model runs workflow 7", "turn 2: the model runs workflow 8"]


async def test_an_unknown_tool_is_told_to_the_model_which_then_answers(server):
    server.reply(
        Reply(tool_calls=[{"id": "c", "name": "rm_rf", "arguments": {}}]),
        Reply(text="sorry"),
    )
    calls: list = []
    report, _ = await run(
        document(llm(server, tools=[7])),
        {**OPTIONS, "run_subworkflow": child_runner({7: {}}, calls)},
    )
    output = report.to_dict()["nodes"]["ask"]["output"]
    assert output["text"] == "sorry" and calls == []
    assert output["tool_calls"] == [{"turn": 1, "tool": "rm_rf", "error": "no tool named 'rm_rf'"}]


async def test_an_llm_node_in_a_map_body_streams_per_item_with_its_iteration(server):
    server.reply(Reply(text="first item"), Reply(text="second item"))
    each = {"id": "each", "type": "map", "config": {"items": [1, 2], "max_concurrency": 1}}
    body = {**llm(server, prompt="item {{ loop.item }}"), "parent": "each"}
    report, events = await run(document(each, body))
    assert report.to_dict()["status"] == "succeeded"
    streamed: dict = {}
    for event in of_type(events, "node.stream"):
        streamed[event["iteration"]] = streamed.get(event["iteration"], "") + event["text"]
    assert streamed == {"each[0]": "first item", "each[1]": "second item"}
    assert report.to_dict()["usage"]["total_tokens"] == 20


async def test_a_large_budget_sends_no_max_tokens_the_model_would_refuse(server):
    report, _ = await run(document(llm(server), settings={"max_tokens": 1_000_000}))
    assert report.to_dict()["nodes"]["ask"]["status"] == "succeeded"
    assert "max_tokens" not in server.requests[0]["json"]


@pytest.mark.parametrize(
    ("memory", "third_request"),
    [
        (
            {"messages": 4},
            ["q 0", "a0", "q 1", "a1", "q 2"],
        ),
        ({"messages": 2}, ["q 1", "a1", "q 2"]),
        ({"tokens": 2}, ["a1", "q 2"]),  # cl100k: "a1" is 2 tokens, "q 1" 3
    ],
)
async def test_memory_keeps_the_conversation_across_loop_iterations(server, memory, third_request):
    server.reply(Reply(text="a0"), Reply(text="a1"), Reply(text="a2"))
    loop = {"id": "turns", "type": "loop", "config": {"mode": "count", "count": 3}}
    body = {**llm(server, prompt="q {{ loop.index }}", memory=memory), "parent": "turns"}
    report, _ = await run(document(loop, body))
    assert report.to_dict()["status"] == "succeeded"
    sent = [[m["content"] for m in r["json"]["messages"]] for r in server.requests]
    assert sent[0] == ["q 0"]
    assert sent[2] == third_request


async def test_without_memory_each_iteration_starts_afresh(server):
    loop = {"id": "turns", "type": "loop", "config": {"mode": "count", "count": 2}}
    body = {**llm(server, prompt="q {{ loop.index }}"), "parent": "turns"}
    await run(document(loop, body))
    assert [len(r["json"]["messages"]) for r in server.requests] == [1, 1]


async def test_an_anthropic_agent_sends_tool_use_results_back_in_one_user_message(server):
    server.reply(
        Reply(
            text="Let me check.",
            tool_calls=[
                {"id": "tu1", "name": "workflow_7", "arguments": {"city": "Oslo"}},
                {"id": "tu2", "name": "workflow_8", "arguments": {}},
            ],
        ),
        Reply(text="4 degrees at noon", usage=(50, 6)),
    )
    calls: list = []
    node = llm(server, provider="anthropic", base_url=server.url.removesuffix("/v1"), tools=[7, 8])
    node["config"]["messages"] = [{"role": "system", "content": "Be brief."}]
    report, _ = await run(
        document(node),
        {**OPTIONS, "run_subworkflow": child_runner({7: {"temp": 4}, 8: {"time": "noon"}}, calls)},
    )
    ask = report.to_dict()["nodes"]["ask"]
    assert ask["status"] == "succeeded", ask["error"]
    assert ask["output"]["text"] == "4 degrees at noon" and ask["output"]["turns"] == 2
    assert [c[:2] for c in calls] == [(7, {"city": "Oslo"}), (8, {})]
    first, second = (r["json"] for r in server.requests)
    assert first["system"] == "Be brief."
    assert [t["name"] for t in first["tools"]] == ["workflow_7", "workflow_8"]
    assistant, results = second["messages"][-2:]
    assert [b["type"] for b in assistant["content"]] == ["text", "tool_use", "tool_use"]
    assert assistant["content"][1]["input"] == {"city": "Oslo"}
    assert results == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "tu1", "content": '{"temp": 4}'},
            {"type": "tool_result", "tool_use_id": "tu2", "content": '{"time": "noon"}'},
        ],
    }
