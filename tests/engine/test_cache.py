"""Reusing unchanged work (SPEC §8): nodes with `cache` end `reused` when an earlier successful
attempt had the same handler type and version, rendered config and input, within `ttl_s`."""

import asyncio

import pytest

from engine import Execution
from engine.caching import CacheHit, cache_key
from engine.document import load_document
from engine.handlers.builtin import BUILTINS
from engine.states import NODE_TRANSITIONS, NodeState
from engine.validation import all_problems
from tests.engine import support
from tests.engine.support import build, doc

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


class MemoryCache:
    """What the runtime's rows do, in memory: each computed success's key, when it ended."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.entries: dict[str, tuple[float, CacheHit]] = {}
        self.lookups: list[str] = []

    async def lookup(self, key: str, max_age_s: float) -> CacheHit | None:
        self.lookups.append(key)
        found = self.entries.get(key)
        if found is None or self.clock.now - found[0] > max_age_s:
            return None
        return found[1]

    def keep(self, execution: Execution) -> None:
        for record in execution.records:
            if record.status is NodeState.SUCCEEDED and record.cache_key:
                hit = CacheHit(execution.run_id, record.output, record.handles, 1500)
                self.entries[record.cache_key] = (record.finished, hit)


CACHED = {"cache": {"ttl_s": 60}}


def chain(b_value: str = "{{ a }}-b", **extra) -> dict:
    return doc(
        [
            ("a", "noop", {"config": {"value": "A"}, **CACHED}),
            ("b", "noop", {"config": {"value": b_value}, **CACHED}),
            ("c", "noop", {"config": {"value": "{{ b }}-c"}, **CACHED}),
            ("plain", "noop", {"config": {"value": "{{ c }}"}, **extra}),
        ],
        [("a", "b"), ("b", "c"), ("c", "plain")],
    )


def run(document: dict, run_id: int, cache: MemoryCache, **options):
    events: list = []
    support.executions.clear()
    execution = Execution(
        build(document),
        run_id=run_id,
        sink=events.append,
        options={"cache": cache, "clock": cache.clock, **options},
    )
    report = asyncio.run(execution.run()).to_dict()
    cache.keep(execution)
    called = {node for node, _ in support.executions}
    return report, [event.to_dict() for event in events], called


def statuses(report: dict) -> dict[str, str]:
    return {node_id: node["status"] for node_id, node in report["nodes"].items()}


def test_a_chain_run_twice_reuses_all_three_nodes_without_running_them():
    cache = MemoryCache(Clock())
    first, _, called_first = run(chain(), 1, cache)
    second, events, called = run(chain(), 2, cache)

    assert called_first == {"a", "b", "c", "plain"}
    assert statuses(second) == {"a": "reused", "b": "reused", "c": "reused", "plain": "succeeded"}
    assert called == {"plain"}  # the node without cache runs every time
    assert [second["nodes"][n]["reused_from"] for n in "abc"] == [1, 1, 1]
    assert second["nodes"]["plain"]["output"] == first["nodes"]["plain"]["output"] == "A-b-c"
    reused = [e for e in events if e["type"] == "node.status" and e["status"] == "reused"]
    assert [(e["node"], e["reused_from"]) for e in reused] == [("a", 1), ("b", 1), ("c", 1)]


def test_changing_one_config_recomputes_that_node_and_its_dependants_only():
    cache = MemoryCache(Clock())
    run(chain(), 1, cache)

    report, _, called = run(chain(b_value="{{ a }}-B"), 2, cache)

    assert statuses(report)["a"] == "reused"
    assert called == {"b", "c", "plain"}
    assert report["nodes"]["c"]["output"] == "A-B-c"


def test_a_result_older_than_ttl_is_computed_again():
    clock = Clock()
    cache = MemoryCache(clock)
    run(chain(), 1, cache)
    clock.now += 61

    report, _, called = run(chain(), 2, cache)

    assert called == {"a", "b", "c", "plain"}
    assert "reused" not in statuses(report).values()


def test_nodes_without_cache_are_never_looked_up_nor_reused():
    cache = MemoryCache(Clock())
    document = doc([("x", "noop", {"config": {"value": 1}})])
    run(document, 1, cache)

    report, _, called = run(document, 2, cache)

    assert called == {"x"} and statuses(report) == {"x": "succeeded"}
    assert cache.lookups == [] and cache.entries == {}


def test_a_failed_attempt_leaves_no_key_to_reuse():
    cache = MemoryCache(Clock())
    failing = doc([("f", "fail", {"config": {"times": 1}, **CACHED})])
    first, _, _ = run(failing, 1, cache)
    assert first["nodes"]["f"]["status"] == "failed"
    assert cache.entries == {}

    second, _, called = run(failing, 2, cache)  # a new attempt 1 fails again: nothing reused
    assert called == {"f"} and second["nodes"]["f"]["status"] == "failed"


def test_a_dry_run_neither_reuses_nor_looks_up():
    cache = MemoryCache(Clock())
    run(chain(), 1, cache)
    cache.lookups.clear()

    report, _, called = run(chain(), 2, cache, dry_run=True)

    assert cache.lookups == [] and called == {"a", "b", "c", "plain"}
    assert "reused" not in statuses(report).values()


def test_the_key_is_the_handler_type_version_rendered_config_and_input():
    handler = support.Noop()
    key = cache_key(handler, {"value": 1}, {"x": [1, 2]})

    assert key == cache_key(handler, {"value": 1}, {"x": [1, 2]})
    assert key != cache_key(handler, {"value": 2}, {"x": [1, 2]})
    assert key != cache_key(handler, {"value": 1}, {"x": [2, 1]})

    class NewerNoop(support.Noop):
        version = 2

    assert key != cache_key(NewerNoop(), {"value": 1}, {"x": [1, 2]})


def test_reused_is_a_terminal_state_reached_from_running():
    assert NodeState.REUSED in NODE_TRANSITIONS[NodeState.RUNNING]
    assert NODE_TRANSITIONS[NodeState.REUSED] == frozenset()


def problems(node: dict) -> list[dict]:
    document = load_document({"nodes": [node]})
    return [p.to_dict() for p in all_problems(document) if p.severity == "error"]


def test_a_node_that_talks_to_the_world_needs_external_to_be_cached():
    url = {"method": "GET", "url": "https://example.com/"}
    refused = problems({"id": "h", "type": "http", "config": url, "cache": {"ttl_s": 60}})
    allowed = problems(
        {"id": "h", "type": "http", "config": url, "cache": {"ttl_s": 60, "external": True}}
    )

    assert [(p["code"], p.get("field")) for p in refused] == [("bad_config", "cache")]
    assert "set cache.external to true" in refused[0]["message"]
    assert allowed == []


def test_containers_cannot_be_cached_and_ttl_is_bounded():
    loop = {"id": "l", "type": "loop", "config": {"mode": "count", "count": 1}}
    too_long = {"id": "t", "type": "transform", "config": {"output": 1}}

    assert "cannot be reused" in problems({**loop, "cache": {"ttl_s": 5}})[0]["message"]
    assert problems({**too_long, "cache": {"ttl_s": 2592001}})
    assert problems({**too_long, "cache": {"ttl_s": 0}})
    assert problems({**too_long, "cache": {"ttl_s": 30, "extra": 1}})
    assert problems({**too_long, "cache": {"ttl_s": 2592000}}) == []


def test_every_builtin_handler_has_a_version():
    assert all(isinstance(handler.version, int) for handler in BUILTINS)
