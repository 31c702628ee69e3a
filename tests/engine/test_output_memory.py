"""Issue 13, defect 5: a small expression or a handler returning shared structure cannot make
the engine use unbounded memory: the expression is refused before it builds its value, and
the output-size check counts with a walk that stops at the limit instead of writing the JSON
(10^12 elements, 2.2 GB, before the fix). Each case runs in a process of its own under an
address-space cap, so a regression fails the test instead of exhausting the machine."""

import json
import subprocess
import sys

import pytest

SCRIPT = """
import asyncio, json, resource, sys, time

resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))

from engine import Execution, Graph, load_document
from engine.handlers import Handler, HandlerResult, Registry
from engine.handlers.builtin import register_builtins

registry = Registry()
register_builtins(registry)


@registry.register
class Shared(Handler):
    type = "shared"
    label = "Shared"

    async def run(self, ctx):
        return HandlerResult([[0] * 10**6] * 10**6)  # 8 MB of memory, 10^12 elements


node = {"id": "make", "type": "shared"}
if sys.argv[1] == "expression":
    node = {"id": "make", "type": "transform", "config": {"output": sys.argv[2]}}
graph = Graph.from_document(load_document({"nodes": [node]}), registry)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
before, started = peak(), time.monotonic()
execution = Execution(graph, options={"max_output_bytes": 16 << 20})
report = asyncio.run(execution.run()).to_dict()
print(json.dumps({
    "node": report["nodes"]["make"],
    "seconds": time.monotonic() - started,
    "grew": peak() - before,
}))
"""


def run_case(*argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "expression",
    ["{{ [[0]*1000000]*1000000 }}", "{{ {'a': [[0] * 1000] * 1000, 'b': [[1] * 1000] * 1000} }}"],
)
def test_an_expression_building_a_huge_shared_value_fails_in_little_memory(expression):
    result = run_case("expression", expression)
    assert result["node"]["status"] == "failed"
    assert result["node"]["error"]["type"] == "expression"
    assert "result too large" in result["node"]["error"]["message"]
    assert result["grew"] < 50 << 20
    assert result["seconds"] < 5


def test_a_handler_output_of_shared_structure_is_measured_without_writing_it():
    result = run_case("handler")
    assert result["node"]["status"] == "failed"
    assert result["node"]["error"] == {
        "message": "output is more than 16,777,216 bytes, over the 16,777,216-byte limit "
        "for one node",
        "type": "output_too_large",
    }
    assert result["grew"] < 50 << 20
    assert result["seconds"] < 10
