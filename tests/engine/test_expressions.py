"""The expression language: values, templates, errors that name the path, references."""

import re

import pytest

from engine.expressions import (
    FUNCTIONS,
    MAX_SIZE,
    ExpressionError,
    evaluate,
    has_template,
    parse,
    referenced_names,
    referenced_paths,
    render,
    template_expressions,
)

SCOPE = {
    "inputs": {"customer_id": "c-1", "items": [3, 1, 2], "flag": True},
    "vars": {"threshold": 2, "name": "Ada"},
    "fetch": {"status": 200, "body": [{"id": 1, "qty": 5}, {"id": 2, "qty": 0}], "none": None},
    "input": {"a": 1},
    "loop": {"index": 0, "iteration": 1, "item": "x", "count": 3},
}


def ev(expr):
    return evaluate(expr, SCOPE)


def error_of(expr, scope=SCOPE):
    with pytest.raises(ExpressionError) as info:
        evaluate(expr, scope)
    return info.value


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("7 // 2, 7 % 2, 7 / 2, 2 ** 10", (3, 1, 3.5, 1024)),
        ("-inputs.items[0]", -3),
        ("len(fetch.body) > vars.threshold", False),
        ("len(fetch.body) >= vars.threshold", True),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("inputs.flag and 'yes' or 'no'", "yes"),
        ("not inputs.flag", False),
        ("'big' if fetch.status >= 400 else 'ok'", "ok"),
        ("inputs.items[-1]", 2),
        ("inputs.items[1:]", [1, 2]),
        ("inputs.items[::-1]", [2, 1, 3]),
        ("inputs['customer_id']", "c-1"),
        ("fetch.body[0].qty", 5),
        ("[b.id for b in fetch.body if b.qty > 0]", [1]),
        ("{b.id: b.qty for b in fetch.body}", {1: 5, 2: 0}),
        ("{x % 2 for x in inputs.items}", {0, 1}),
        ("[x * y for x in [1, 2] for y in [10, 100]]", [10, 100, 20, 200]),
        ("sum(b.qty for b in fetch.body)", 5),
        ("{**input, 'b': 2}", {"a": 1, "b": 2}),
        ("true and not false", True),
        ("null", None),
        ("fetch.none is None", True),
        ("'c' in inputs.customer_id", True),
        ("'zzz' not in vars", True),
        ("loop.iteration == loop.index + 1", True),
    ],
)
def test_expression_values(expr, expected):
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("len(inputs.items)", 3),
        ("str(1.5) + str(true) + str(null)", "1.5truenull"),
        ("str({'a': [1, None]})", '{"a": [1, null]}'),
        ("int(' 42 ') + int(2.9)", 44),
        ("float('2.5')", 2.5),
        ("bool(0), bool('x')", (False, True)),
        ("round(2.567, 2), round(2.5)", (2.57, 2)),
        ("abs(-3)", 3),
        ("min(inputs.items), max(3, 9, 4)", (1, 9)),
        ("sorted(inputs.items), sorted(inputs.items, reverse=true)", ([1, 2, 3], [3, 2, 1])),
        ("any([0, 1]), all([1, 0])", (True, False)),
        ("keys(input), values(input), items(input)", (["a"], [1], [["a", 1]])),
        ("lower('AbC') + upper('x') + strip('  y ')", "abcXy"),
        ("get(fetch, 'missing', 'dflt')", "dflt"),
        ("get(fetch, 'status')", 200),
        ("get(inputs.items, 5, 0), get(inputs.items, 0)", (0, 3)),
        ("get(fetch.none, 'x', 1)", 1),
        ("json_loads(json_dumps({'a': [1, 2]}))", {"a": [1, 2]}),
        ("json_dumps({'b': 1, 'a': 2}, sort_keys=true)", '{"a": 2, "b": 1}'),
        ("range(3), range(1, 7, 2)", ([0, 1, 2], [1, 3, 5])),
        ("join(', ', ['a', 1, true])", "a, 1, true"),
        ("split('a,b,c', ',')", ["a", "b", "c"]),
        ("replace('a-b-c', '-', '+')", "a+b+c"),
        ("contains(inputs.items, 2), contains('abc', 'd')", (True, False)),
        ("startswith('hello', 'he'), endswith('hello', 'lo')", (True, True)),
        (
            "[type_of(v) for v in [null, true, 1, 1.5, 'a', [], {}]]",
            ["null", "bool", "number", "number", "string", "list", "object"],
        ),
        ("list('ab'), dict([['k', 1]])", (["a", "b"], {"k": 1})),
    ],
)
def test_allow_listed_functions(expr, expected):
    assert ev(expr) == expected


def test_now_is_utc_iso_with_microseconds():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", ev("now()"))


def test_allow_list_holds_the_spec_functions():
    spec = "len str int float bool round abs min max sum sorted any all keys values items"
    spec += " lower upper strip get json_dumps json_loads now"
    assert set(spec.split()) <= set(FUNCTIONS)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("fetch.nope", "fetch.nope: no such key"),
        ("fetch.body[0].price", "fetch.body[0].price: no such key"),
        ("inputs.items[5]", "inputs.items[5]: index out of range"),
        ("fetch['x']", "fetch['x']: no such key"),
        ("ghost", "unknown name 'ghost'"),
        ("ghost.x", "unknown name 'ghost'"),
        ("fetch.none.x", "fetch.none.x: cannot read key 'x': fetch.none is null, not an object"),
        ("inputs.items.first", "inputs.items is list, not an object"),
        ("inputs.items['a']", "list index must be an integer, not string"),
        ("1 / 0", "division by zero"),
        ("'a' + 1", "cannot apply + to string and number"),
        ("'a' < 1", "cannot compare string and number with <"),
        ("len(5)", "len() expects a string, list or object, got number"),
        ("int('abc')", "int(): 'abc' is not an integer"),
        ("max([])", "max() of an empty list"),
        ("json_loads('{')", "json_loads(): invalid JSON"),
        ("[x for x in 5]", "5: cannot loop over number"),
        ("[a for a, b in [[1]]]", "cannot unpack a list into (a, b)"),
        ("{[1]: 2}", "a list cannot be an object key"),
    ],
)
def test_evaluation_errors_name_what_is_wrong(expr, message):
    error = error_of(expr)
    assert error.code == "expression"
    assert message in error.message


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("1 +", "invalid expression"),
        ("", "empty expression"),
        ("foo(1)", "unknown function 'foo'"),
        ("len(1, 2)", "len(): too many positional arguments"),
        ("sorted([1], key=1)", "sorted(): got an unexpected keyword argument 'key'"),
        ("inputs.items.sort()", "only allow-listed functions can be called"),
        ("lambda: 1", "lambda is not allowed"),
        ("a if b", "invalid expression"),
        ("1 << 2", "operator << is not allowed"),
        ("b'x'", "bytes literals are not allowed"),
    ],
)
def test_parse_errors_are_bad_expression(expr, message):
    with pytest.raises(ExpressionError) as info:
        parse(expr)
    assert info.value.code == "bad_expression"
    assert message in info.value.message


def test_parse_is_cached_by_text():
    assert parse("vars.threshold + 1") is parse("vars.threshold + 1")


def test_non_string_expression_is_a_clear_error():
    with pytest.raises(ExpressionError, match="must be a string, not number"):
        parse(5)


def test_comprehension_variables_do_not_leak_into_the_scope():
    assert ev("[x for x in [1, 2]] + [x for x in [3]]") == [1, 2, 3]
    assert error_of("[x for x in [1]] and x").message == "unknown name 'x'"


def test_comprehension_variable_shadows_a_node_of_the_same_name():
    assert ev("[fetch for fetch in [1, 2]]") == [1, 2]
    assert ev("fetch.status") == 200


def test_true_false_null_are_aliases_of_python_constants():
    assert ev("[true, false, null]") == [True, False, None]


def test_get_is_the_way_to_read_an_optional_key():
    assert ev("get(input, 'b', 'none')") == "none"
    assert "no such key" in error_of("input.b").message


def test_size_bounds_on_results():
    assert "result too large" in error_of("'ab' * 10**7").message
    assert "more than 1,000,000 numbers" in error_of("range(10**7)").message
    assert len(ev(f"'a' * {MAX_SIZE}")) == MAX_SIZE


# --- templates ------------------------------------------------------------------------------


def test_single_template_yields_the_raw_value():
    assert render("{{ inputs.items }}", SCOPE) == [3, 1, 2]
    assert render("{{fetch.status}}", SCOPE) == 200
    assert render("{{   fetch.status   }}", SCOPE) == 200  # spaces inside the braces count not
    assert render("{{ fetch.none }}", SCOPE) is None


@pytest.mark.parametrize(
    ("template", "text"),
    [
        (" {{ inputs.items }} ", " [3, 1, 2] "),
        ("  {{ fetch.status }}", "  200"),
        ("{{ fetch.status }}\n", "200\n"),  # a YAML block scalar's final newline
        (" {{ fetch.none }}", " "),
    ],
)
def test_a_template_with_anything_around_it_renders_text(template, text):
    assert render(template, SCOPE) == text


def test_mixed_template_renders_text():
    rendered = render("https://api/{{ inputs.customer_id }}/{{ fetch.status }}", SCOPE)
    assert rendered == "https://api/c-1/200"


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("n={{ fetch.none }}", "n="),
        ("b={{ inputs.flag }}", "b=true"),
        ("l={{ inputs.items }}", "l=[3, 1, 2]"),
        ("o={{ input }}", 'o={"a": 1}'),
        ("f={{ 1.5 }}", "f=1.5"),
        ("{{ 'a' }}{{ 'b' }}", "ab"),
    ],
)
def test_text_rendering_of_each_type(template, text):
    assert render(template, SCOPE) == text


def test_template_with_closing_braces_inside_the_expression():
    assert render("{{ {'a': {'b': 1}} }}", SCOPE) == {"a": {"b": 1}}
    assert render("x{{ {'k': 2}['k'] }}y", SCOPE) == "x2y"


def test_render_walks_nested_json_and_keeps_keys():
    config = {"{{ keep }}": ["{{ vars.name }}", {"q": "{{ vars.threshold * 2 }}"}], "n": 1}
    assert render(config, SCOPE) == {"{{ keep }}": ["Ada", {"q": 4}], "n": 1}


def test_render_returns_the_same_object_without_templates():
    config = {"url": "https://example.com", "headers": {"a": "b"}, "ids": [1, 2]}
    assert render(config, SCOPE) is config
    mixed = {"static": {"a": "b"}, "dyn": "{{ vars.name }}"}
    assert render(mixed, SCOPE)["static"] is mixed["static"]


def test_render_errors_name_the_path():
    with pytest.raises(ExpressionError, match=r"fetch\.nope: no such key"):
        render({"x": "id={{ fetch.nope }}"}, SCOPE)


def test_unclosed_template_is_bad_expression():
    with pytest.raises(ExpressionError) as info:
        render("{{ vars.name", SCOPE)
    assert info.value.code == "bad_expression"
    assert "unclosed '{{'" in info.value.message


def test_has_template():
    assert has_template({"a": [1, {"b": "x {{ y }}"}]})
    assert not has_template({"a": [1, {"b": "x }} {y}"}], "c": None})


def test_template_expressions_lists_every_expression_in_order():
    value = {"u": "{{ a.x }}/{{ inputs.id }}", "list": [{"q": "{{ len(b) }}"}], "n": 3}
    assert template_expressions(value) == ["a.x", "inputs.id", "len(b)"]


# --- references -----------------------------------------------------------------------------


def test_referenced_names_excludes_functions_and_comprehension_variables():
    expr = "a.x + len(inputs.items) + sum(y for y in vars.ys if y > z)"
    assert referenced_names(expr) == {"a", "inputs", "vars", "z"}
    assert referenced_names("true or null") == set()


def test_referenced_paths_follow_dots_and_string_subscripts():
    expr = "a.x + len(inputs.items) + vars['threshold'] + b[0].c + [i.q for i in d.e]"
    assert referenced_paths(expr) == {
        ("a", "x"),
        ("inputs", "items"),
        ("vars", "threshold"),
        ("b",),
        ("d", "e"),
    }


def test_a_value_that_is_not_json_cannot_be_rendered_as_text():
    with pytest.raises(ExpressionError, match="cannot render a object as text"):
        render("v={{ thing }}", {"thing": object()})


def test_template_expressions_hands_an_unclosed_template_to_parse_as_bad_expression():
    (expr,) = template_expressions({"u": "https://x/{{ vars.name"})
    with pytest.raises(ExpressionError) as info:
        parse(expr)
    assert info.value.code == "bad_expression"
    assert "was never closed" in info.value.message
