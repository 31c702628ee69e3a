"""Issue 13, defects 4 and 5 in the evaluator: sizes are logical (shared parts count each time
they appear), a value over the limit is refused before it is built, and an operation whose
cost grows with its operands is charged that cost before it runs, so one step cannot run for
long or take much memory however small the expression."""

import time
import tracemalloc

import pytest

from engine.expressions import MAX_SIZE, ExpressionError, evaluate


def shared(outer: int, inner: int, item: float = 0.5) -> list:
    """`outer` references to one list of `inner` elements: little memory, outer*inner elements."""
    return [[item] * inner] * outer


def failure(expression: str, scope: dict | None = None) -> tuple[ExpressionError, float]:
    """The error of a failing evaluation and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, scope or {})
    return info.value, time.monotonic() - started


def peak_memory(expression: str) -> int:
    """The peak memory (bytes) allocated while evaluating `expression`, which fails."""
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionError):
            evaluate(expression, {})
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "expression",
    [
        "[[0] * 1000000] * 1000000",
        "[[0] * 1000000] * 100000 == [[0] * 1000000] * 100000",
        "[[[0] * 1000] * 1000, [0]]",
        "[x for x in [[0] * 1000000] * 3]",
        "{'a': [0] * 600000, 'b': [1] * 600000}",
        "[[0] * 1000000] + [[1] * 1000000]",
        "[[0] * 1000] * 1000 + [[1] * 1000] * 1000",
        "{i: [0] * 100000 for i in range(20)}",
    ],
)
def test_a_value_over_the_limit_counting_repeats_is_refused_before_it_is_built(expression):
    error, seconds = failure(expression)
    assert "result too large" in error.message
    assert "counting repeated parts" in error.message
    assert f"limit {MAX_SIZE:,}" in error.message
    assert seconds < 1
    assert peak_memory(expression) < 50 << 20


@pytest.mark.parametrize(
    "expression",
    [
        "a == b",
        "a != b",
        "a < b",
        "b[0] in a",
        "contains(a, b[0])",
        "sorted(a)",
        "max(a)",
        "[a] * 10",
        "len([1 for row in a if row == b[0]])",
        "(a + a) == (b + b)",
    ],
)
def test_an_expensive_operation_on_shared_values_is_refused_before_it_runs(expression):
    # 10^5 references to one list of 10^3 floats: 10^8 elements to walk, in 800 kB
    scope = {"a": shared(100_000, 1_000), "b": shared(100_000, 1_000)}
    error, seconds = failure(expression, scope)
    assert "too much work" in error.message or "result too large" in error.message
    assert seconds < 1


def test_the_error_names_the_operation_and_its_cost():
    scope = {"a": shared(100_000, 1_000), "b": shared(100_000, 1_000)}
    error, _ = failure("a == b", scope)
    assert error.message == (
        "a == b: expression does too much work (100,000,000 steps; the limit is 10,000,000)"
    )


def test_large_values_read_from_the_scope_can_still_be_filtered_and_wrapped():
    rows = [{"id": i, "keep": i % 2 == 0, "tags": ["a", "b", "c"]} for i in range(100_000)]
    scope = {"rows": rows, "page": "x" * 2_000_000}
    kept = evaluate("[row for row in rows if row.keep]", scope)
    assert len(kept) == 50_000
    assert len(evaluate("{'html': page, 'size': len(page)}", scope)["html"]) == 2_000_000
    assert evaluate("rows[0] == rows[0]", scope) is True
    assert evaluate("[[0] * 1000] * 1000 == [[0] * 1000] * 1000", {}) is True


@pytest.mark.parametrize("expression", ["[rows] * 2", "[[rows] * 2, 1]", "[rows] * 3 == []"])
def test_repeating_a_large_scope_value_is_refused(expression):
    scope = {"rows": [{"id": i, "text": "x" * 50} for i in range(20_000)]}  # 1.14 M elements
    error, _ = failure(expression, scope)
    assert "result too large" in error.message


def test_deeply_shared_values_are_measured_without_expanding_them():
    deep = [0]
    for _ in range(60):
        deep = [deep, deep]  # 2^60 elements in 60 lists
    error, seconds = failure("[deep] * 2", {"deep": deep})
    assert "result too large" in error.message
    assert seconds < 1
    error, seconds = failure("deep == [deep[0], deep[1]]", {"deep": deep})
    assert "too much work" in error.message
    assert seconds < 1
