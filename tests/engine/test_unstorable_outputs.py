"""Issue 13, defect 1: an output PostgreSQL would refuse (NaN, ±Infinity, NUL, a lone
surrogate, anywhere in it) fails its node with `unstorable_output` before it leaves the
engine: no event, record or run output carries it, and the usual retry / error-edge rules
apply to that failure."""

import json
import math

import pytest

from engine.handlers import Handler, HandlerContext, HandlerResult, Registry
from engine.handlers.builtin import register_builtins
from engine.storable import json_size, output_problem
from tests.engine import support
from tests.engine.support import doc

REGISTRY = Registry()
register_builtins(REGISTRY)


@REGISTRY.register
class Measure(Handler):
    """A handler whose output is computed, not written in the document (which may not hold
    NaN): `ratio` divides by zero the way floats do."""

    type = "measure"
    label = "Measure"

    async def run(self, ctx: HandlerContext) -> HandlerResult:
        return HandlerResult({"ratio": [0.5, math.inf - math.inf]})


def run(document: dict) -> tuple[dict, list]:
    return support.run(document, reg=REGISTRY)


def wf(output: object, **node: object) -> dict:
    """WF(x): start -> transform(output = x) -> output."""
    return doc(
        [
            ("start", "start"),
            ("make", "transform", {"config": {"output": output}, **node}),
            ("out", "output", {"config": {"value": "{{ make }}"}}),
        ],
        [("start", "make"), ("make", "out")],
    )


def leaves_engine_clean(report: dict, events: list) -> None:
    """Nothing the engine hands over (report, events) holds what PostgreSQL refuses."""
    for value in (report, events):
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)  # raises on NaN, ±Infinity
        assert "\x00" not in text
        text.encode("utf-8")  # raises on a lone surrogate


@pytest.mark.parametrize(
    ("expression", "what"),
    [
        ("{{ float('nan') }}", "output: NaN is not storable"),
        ("{{ 1e308 * 10 }}", "output: Infinity is not storable"),
        ("{{ -1e308 * 10 }}", "output: -Infinity is not storable"),
        ("{{ '\\x00' }}", "output: a NUL character (\\u0000) is not storable"),
        ("{{ '\\ud800' }}", "output: a lone surrogate (\\ud800) is not storable"),
        ("{{ {'items': [1, 2, 3, float('nan')]} }}", "output.items[3]: NaN is not storable"),
        ("{{ {'a': {'b': ['ok', 'x\\x00y']}} }}", "output.a.b[1]: a NUL character"),
        ("{{ [{'a\\x00': 1}] }}", "output[0] key 'a\\x00': a NUL character"),
        ("{{ {'k\\udc80': 1} }}", "output key 'k\\udc80': a lone surrogate (\\udc80)"),
        ("{{ {(1, 2): 3} }}", "output key (1, 2): a key of type tuple is not storable"),
    ],
)
def test_an_unstorable_output_fails_its_node_with_a_clear_error(expression, what):
    report, events = run(wf(expression))
    make = report["nodes"]["make"]
    assert make["status"] == "failed"
    assert make["error"]["type"] == "unstorable_output"
    assert make["error"]["message"].startswith(what)
    assert make["output"] is None
    assert report["status"] == "failed"
    assert report["outputs"] == {}
    assert report["nodes"]["out"]["status"] == "upstream_failed"
    assert not [e for e in events if e["type"] == "node.output" and e["node"] == "make"]
    leaves_engine_clean(report, events)


def test_run_outputs_never_hold_an_unstorable_value():
    document = doc(
        [("start", "start"), ("out", "output", {"config": {"value": {"n": "{{ 1e308 * 10 }}"}}})],
        [("start", "out")],
    )
    report, events = run(document)
    assert report["nodes"]["out"]["error"] == {
        "message": "output.n: Infinity is not storable",
        "type": "unstorable_output",
    }
    assert report["outputs"] == {}
    leaves_engine_clean(report, events)


def test_every_handler_output_is_checked_not_only_expressions():
    report, events = run(doc([("raw", "measure")]))
    assert report["nodes"]["raw"]["error"] == {
        "message": "output.ratio[1]: NaN is not storable",
        "type": "unstorable_output",
    }
    leaves_engine_clean(report, events)


def test_an_unstorable_output_is_retried_like_any_node_error():
    retry = {"max_attempts": 3, "backoff": "fixed", "delay_s": 0}
    report, events = run(wf("{{ float('nan') }}", retry=retry))
    assert report["nodes"]["make"]["attempts"] == 3
    statuses = [e["status"] for e in events if e["type"] == "node.status" and e["node"] == "make"]
    assert statuses == ["running", "retrying", "running", "retrying", "running", "failed"]


def test_an_error_edge_handles_an_unstorable_output():
    document = doc(
        [
            ("make", "transform", {"config": {"output": "{{ [float('inf')] }}"}}),
            ("rescue", "transform", {"config": {"output": "{{ input.error.type }}"}}),
        ],
        [("make", "rescue", "error")],
    )
    report, events = run(document)
    assert report["status"] == "succeeded"
    assert report["nodes"]["make"]["status"] == "failed"
    assert report["nodes"]["rescue"]["output"] == "unstorable_output"
    leaves_engine_clean(report, events)


def test_one_bad_output_leaves_the_other_branches_of_the_run_alone():
    document = doc(
        [
            ("bad", "transform", {"config": {"output": "{{ '\\x00' }}"}}),
            ("good", "transform", {"config": {"output": "{{ 'fine' }}"}}),
        ]
    )
    report, events = run(document)
    assert report["nodes"]["good"]["output"] == "fine"
    assert report["nodes"]["bad"]["error"]["type"] == "unstorable_output"
    leaves_engine_clean(report, events)


def test_error_messages_and_waits_that_quote_user_text_are_made_storable():
    document = doc(
        [
            ("boom", "error", {"config": {"message": "bad {{ '\\x00' }} and {{ '\\ud800' }}"}}),
            ("ask", "approval", {"config": {"prompt": "approve {{ '\\x00' }}?"}}),
        ]
    )
    report, events = run(document)
    assert report["nodes"]["boom"]["error"] == {"message": "bad \ufffd and \ufffd", "type": "error"}
    assert report["nodes"]["ask"]["error"] == {
        "message": "wait.prompt: a NUL character (\\u0000) is not storable",
        "type": "unstorable_output",
    }
    leaves_engine_clean(report, events)


@pytest.mark.parametrize(
    "value",
    [None, True, -(10**20), 1.5, "", 'é\U0001f600"\\\n\t', [], {}, {"a": [1, {"b": None}]}],
)
def test_output_size_counts_what_the_json_writer_writes(value):
    shared = [value] * 40
    for item in (value, shared, {"x": shared, 1: shared, None: 2.5}):
        assert json_size(item) == (len(json.dumps(item, separators=(",", ":"))), True)
        assert output_problem(item) is None
