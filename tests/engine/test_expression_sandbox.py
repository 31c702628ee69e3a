"""Known sandbox-escape payloads must fail with ExpressionError and never run anything."""

import builtins
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expressions import ExpressionError, evaluate, render


class Canary:
    """A scope value that records every attribute read or call made on it."""

    touched: list[str] = []

    def __getattribute__(self, name):
        Canary.touched.append(name)
        return object.__getattribute__(self, name)

    def __call__(self, *args):
        Canary.touched.append("__call__")


SCOPE = {"x": {"a": 1}, "inputs": {"items": [1, 2]}, "canary": Canary(), "s": "text"}

ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__",
    "''.__class__.__mro__[1].__subclasses__()",
    "x.__globals__",
    "x.__class__",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "'{0.__class__}'.format(1)",
    "'{0.__class__.__init__.__globals__}'.format(x)",
    "str.format('{0.__class__}', 1)",
    "s.format(x)",
    "(x for x in []).gi_frame.f_back",
    "(x for x in []).gi_frame",
    "getattr(x, '__class__')",
    "__import__('os')",
    "__import__('os').system('true')",
    "eval('1')",
    "exec('1')",
    "compile('1', '', 'eval')",
    "open('/etc/passwd')",
    "open('/etc/passwd').read()",
    "globals()",
    "locals()",
    "vars(x)",
    "dir()",
    "breakpoint()",
    "lambda: 1",
    "(lambda: 1)()",
    "9**9**9**9",
    "2**10**10",
    "'a'*10**10",
    "[1]*10**9",
    "'a'*10**6*10**6",
    "[[[1 for a in range(1000)] for b in range(1000)] for c in range(1000)]",
    "[y for y in range(10**6) for z in range(10**6)]",
    "['a' * 10**6 for i in range(100)]",
    "json_dumps([['a' * 10**5] * 10] * 1000)",
    "join('', ['a' * 10**6] * 10)",
    "replace('a' * 10**6, 'a', 'bb')",
    "str([['a' * 10**5] * 10] * 1000)",
    "'%*d' % (10**9, 1)",
    "type(1)",
    "type(x)",
    "len.__self__",
    "len.__self__.__import__('os')",
    "str.__class__",
    "inputs.__class__",
    "inputs._private",
    "x._a",
    "_",
    "__builtins__",
    "__builtins__['eval']",
    "(y := 1)",
    "[(y := 1) for z in [1]]",
    "f'{x}'",
    "f'{x.__class__}'",
    "f'{x!r:>{10**9}}'",
    "canary.anything",
    "canary()",
    "canary.__class__",
    "canary['a']",
    "[*x]",
    "{**x, **canary}",
    "max(*[1, 2])",
    "sorted([1], key=canary)",
    "get(x, 'a').__class__",
    "x.a.__class__",
    "... ",
    "b'abc'",
    "1j",
    "yield 1",
    "await x",
    "import os",
    "x.a = 1",
    "del x",
    "1; 2",
    "int('9' * 5000)",
    "round(10, -10**9)",
    "json_dumps(x, indent=10**9)",
    "[] + [1] * 999999 + [1] * 999999",
    "{i: i for i in range(10**6)} | {-i: i for i in range(1, 10**6)}",
]


DANGEROUS_ATTRIBUTES = {
    "__class__",
    "__bases__",
    "__base__",
    "__subclasses__",
    "__globals__",
    "__self__",
    "__mro__",
    "__init__",
    "__builtins__",
    "gi_frame",
    "f_back",
    "format",
    "system",
    "read",
    "_private",
    "_a",
}
SUSPICIOUS_CALLS = {
    # the parser itself calls compile(..., PyCF_ONLY_AST) and getattr on AST nodes: only calls
    # that a payload could have made count
    "open": lambda *args, **kwargs: True,
    "eval": lambda *args, **kwargs: True,
    "exec": lambda *args, **kwargs: True,
    "breakpoint": lambda *args, **kwargs: True,
    "__import__": lambda name, *args, **kwargs: name.split(".")[0] in {"os", "subprocess", "sys"},
    "getattr": lambda obj, name, *args: name in DANGEROUS_ATTRIBUTES,
}


@pytest.fixture
def tripwires(monkeypatch):
    """Make the dangerous builtins record suspicious calls, so a payload that ran is caught."""
    calls = []
    for name, suspicious in SUSPICIOUS_CALLS.items():
        original = getattr(builtins, name)

        def recorder(*args, _name=name, _original=original, _suspicious=suspicious, **kwargs):
            if _suspicious(*args, **kwargs):
                calls.append((_name, args[:2]))
            return _original(*args, **kwargs)

        monkeypatch.setattr(builtins, name, recorder)
    Canary.touched.clear()
    return calls


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_payload_fails_cleanly_and_runs_nothing(payload, tripwires):
    started = time.monotonic()
    with pytest.raises(ExpressionError) as info:
        evaluate(payload, SCOPE)
    assert info.value.code in {"bad_expression", "expression"}
    assert info.value.message
    assert tripwires == []
    assert Canary.touched == []
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("payload", ESCAPES[:20])
def test_escape_payload_inside_a_template_fails_cleanly(payload, tripwires):
    with pytest.raises(ExpressionError):
        render({"url": "https://example.com/{{ " + payload + " }}"}, SCOPE)
    assert tripwires == []


def test_forbidden_constructs_are_refused_before_running():
    for payload in ("lambda: 1", "().__class__", "__import__('os')", "f'{x}'", "(y := 1)"):
        with pytest.raises(ExpressionError) as info:
            evaluate(payload, {})
        assert info.value.code == "bad_expression", payload


def test_a_dict_key_that_looks_like_a_dunder_is_only_data():
    assert evaluate("x['__class__']", {"x": {"__class__": "plain"}}) == "plain"


def test_time_budget_stops_a_slow_expression_quickly():
    started = time.monotonic()
    with pytest.raises(ExpressionError, match="took longer than"):
        evaluate("[('zz' in big) for i in range(10**6)]", {"big": "a" * 10**6})
    assert time.monotonic() - started < 2


def test_work_budget_counts_what_functions_walk_through():
    started = time.monotonic()
    # 10 sums of a million numbers exhaust the work budget (unless the clock runs out first)
    with pytest.raises(ExpressionError, match=r"too much work|took longer than"):
        evaluate("[sum(big) for i in range(10**6)]", {"big": [1] * 10**6})
    assert time.monotonic() - started < 2


def test_work_budget_does_not_charge_lookups_by_the_size_of_the_object():
    lookup = {str(i): i for i in range(10_000)}
    scope = {"lookup": lookup, "ids": [str(i) for i in range(5_000)]}
    assert len(evaluate("[get(lookup, i) for i in ids]", scope)) == 5_000


TOKENS = [
    "x",
    "inputs",
    "items",
    ".",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ",",
    ":",
    "0",
    "1",
    "-1",
    "10**9",
    "'a'",
    "__class__",
    "_x",
    "len",
    "str",
    "get",
    "range",
    "for",
    "in",
    "if",
    "else",
    "and",
    "or",
    "not",
    "+",
    "*",
    "**",
    "/",
    "%",
    "==",
    "<",
    "lambda",
    "[i for i in range(9)]",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
def test_random_printable_text_only_ever_raises_expression_error(text):
    try:
        evaluate(text, SCOPE)
    except ExpressionError as error:
        assert error.code in {"bad_expression", "expression"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_random_token_soup_only_ever_raises_expression_error(tokens):
    try:
        evaluate(" ".join(tokens), SCOPE)
    except ExpressionError as error:
        assert error.code in {"bad_expression", "expression"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_random_templates_only_ever_raise_expression_error(text):
    try:
        render({"v": "{{" + text + "}}", "w": text}, SCOPE)
    except ExpressionError:
        pass
