"""What Switchyard accepts from clients: JSON values that PostgreSQL, every JSON client and the
engine can hold, and bounded ASCII integers in query strings.

One set of rules for every way a value comes in (API bodies, JSON or YAML imports, websocket
messages, query strings): no NaN or ±Infinity, no integer beyond 64 bits, no NUL character or
lone surrogate in any string or key, no nesting deeper than MAX_DEPTH, and from YAML only the
types JSON has (no timestamps, `!!binary`, sets, non-string keys). Each refusal is a 400 in the
SPEC's error body naming the path of the value (`nodes[0].config.url`); the refused text itself
is never echoed back (a lone surrogate cannot even be encoded into the answer).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml
from django.http import QueryDict
from rest_framework import parsers

from engine.storable import BAD_CHARACTERS
from workflows.errors import SwitchyardError, problem

MAX_DEPTH = 100  # objects and lists inside one another
MAX_VALUES = 1_000_000  # values in one body, counting each use of a YAML alias
MAX_INT = 2**63 - 1  # PostgreSQL's bigint; beyond it JSON clients disagree anyway
MAX_ID = MAX_INT  # primary keys (bigint)
MAX_SEQ = 2**31 - 1  # an event's seq, an attempt (PostgreSQL integers)
MAX_PROBLEMS = 20  # reported at once
ASCII_INTEGER = re.compile(r"-?[0-9]{1,19}")


class BadInput(SwitchyardError):
    """A request carries a value Switchyard refuses to parse or store (400)."""


# --- values that are not JSON stand in for themselves until the walk names their path -----------


class Unrepresentable:
    """A parsed value that has no JSON form: reported, with its path, by `check_value`."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


def parse_constant(name: str) -> Unrepresentable:
    return Unrepresentable("bad_number", f"{name} is not a JSON number")


def parse_float(text: str) -> float | Unrepresentable:
    value = float(text)
    if math.isfinite(value):
        return value
    return Unrepresentable("bad_number", f"{text[:40]} is too large for a JSON number")


def parse_int(text: str) -> int | Unrepresentable:
    if len(text.lstrip("-")) > 19:
        return Unrepresentable("bad_number", f"{out_of_range(text)}")
    return int(text)


def out_of_range(text: str) -> str:
    shown = text if len(text) <= 40 else f"{text[:20]}…({len(text)} digits)"
    return f"the integer {shown} is out of range (at most {MAX_INT} in size)"


# --- checking a parsed value --------------------------------------------------------------------


def check_value(value: Any, *, root: str = "") -> None:
    """Raise BadInput naming every unacceptable value in `value` (a parsed JSON tree)."""
    if acceptable(value):
        return
    found = value_problems(value, root=root)
    if found:
        raise BadInput(found)


def acceptable(value: Any) -> bool:
    """Whether the whole tree is acceptable: the common case, checked fast (no paths built;
    `value_problems` names them when this says no)."""
    stack = [(value, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        kind = type(item)
        if kind is str:
            if "\x00" in item or (not item.isascii() and BAD_CHARACTERS.search(item)):
                return False
        elif kind is dict:
            if depth >= MAX_DEPTH:
                return False
            for key, child in item.items():
                if type(key) is not str or not key.isascii() or "\x00" in key:
                    return False
                stack.append((child, depth + 1))
        elif kind is list:
            if depth >= MAX_DEPTH:
                return False
            stack.extend((child, depth + 1) for child in item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif kind is int:
            if not -MAX_INT <= item <= MAX_INT:
                return False
        elif item is not None and kind is not bool:
            return False
        if seen > MAX_VALUES:
            return False
    return True


def value_problems(value: Any, *, root: str = "") -> list[dict[str, Any]]:
    """The problems of a parsed tree, walked without recursion (a tree may be very deep)."""
    found: list[dict[str, Any]] = []
    stack: list[tuple[Any, str, int]] = [(value, root, 0)]
    seen = 0
    while stack and len(found) < MAX_PROBLEMS:
        item, path, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            message = f"more than {MAX_VALUES} values in all (YAML aliases count each use)"
            return [problem("too_many_values", message)]
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                message = f"{where(path)}nested more than {MAX_DEPTH} levels deep"
                found.append(problem("too_deep", message, field=path or None))
                continue
            children = container_children(item, path, found)
            stack.extend((child, child_path, depth + 1) for child_path, child in children)
        else:
            found.extend(scalar_problems(item, path))
    return found


def container_children(item: dict | list, path: str, found: list) -> list[tuple[str, Any]]:
    if isinstance(item, list):
        return [(f"{path}[{index}]", child) for index, child in reversed(list(enumerate(item)))]
    children = []
    for key, child in reversed(list(item.items())):
        if not isinstance(key, str):
            message = (
                f"{where(path)}the key {key_text(key)} is not a string; every key of a JSON "
                "object is text (quote it in YAML)"
            )
            found.append(problem("unsupported_yaml", message, field=path or None))
            continue
        if BAD_CHARACTERS.search(key):
            found.append(text_problem(path, f"the key {safe_text(key)!r}"))
            continue
        children.append((f"{path}.{key}" if path else key, child))
    return children


def scalar_problems(item: Any, path: str) -> list[dict[str, Any]]:
    if item is None or isinstance(item, bool):
        return []
    if isinstance(item, str):
        return [text_problem(path, "the text")] if BAD_CHARACTERS.search(item) else []
    if isinstance(item, int):
        if -MAX_INT <= item <= MAX_INT:
            return []
        return [problem("bad_number", f"{where(path)}{out_of_range(str(item))}", field=path)]
    if isinstance(item, float):
        if math.isfinite(item):
            return []
        message = f"{where(path)}{item} is not a JSON number (NaN and Infinity cannot be stored)"
        return [problem("bad_number", message, field=path or None)]
    if isinstance(item, Unrepresentable):
        return [problem(item.code, f"{where(path)}{item.message}", field=path or None)]
    message = f"{where(path)}a {type(item).__name__} is not a JSON value"
    return [problem("unsupported_yaml", message, field=path or None)]


def text_problem(path: str, what: str) -> dict[str, Any]:
    message = (
        f"{where(path)}{what} contains a NUL character (\\u0000) or a lone surrogate "
        "(\\ud800-\\udfff): such text can be neither stored nor looked up"
    )
    return problem("bad_text", message, field=path or None)


def where(path: str) -> str:
    return f"{path}: " if path else ""


def key_text(key: Any) -> str:
    if isinstance(key, Unrepresentable):
        return "(" + key.message + ")"
    return f"{safe_text(repr(key))} ({type(key).__name__})"


def safe_text(text: str) -> str:
    """`text` with NUL and lone surrogates written as escapes, fit to put in an answer."""
    return BAD_CHARACTERS.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


# --- JSON ---------------------------------------------------------------------------------------


def json_loads(text: str | bytes, *, what: str = "the body") -> Any:
    """Parse JSON text (`what`: the body, the message) into checked values; BadInput (400)
    for anything not storable."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"{what} is not UTF-8 text (byte {exc.start})"
            raise BadInput([problem("malformed_json", message)]) from None
    try:
        value = json.loads(
            text, parse_constant=parse_constant, parse_float=parse_float, parse_int=parse_int
        )
    except RecursionError:
        message = f"{what} is nested more than {MAX_DEPTH} levels deep"
        raise BadInput([problem("too_deep", message)]) from None
    except ValueError as exc:
        raise BadInput([problem("malformed_json", f"{what} is not JSON: {exc}")]) from None
    check_value(value)
    return value


# --- YAML ---------------------------------------------------------------------------------------


class TooDeep(yaml.YAMLError):
    pass


class JsonYamlLoader(yaml.SafeLoader):
    """YAML that builds only JSON types: timestamps, `!!binary`, sets, ordered maps and pairs
    become Unrepresentable (reported with their path); nesting stops at MAX_DEPTH while the
    tree is built, before any recursion can run deep."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise TooDeep(f"nested more than {MAX_DEPTH} levels deep (line {mark.line + 1})")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def yaml_type(kind: str, hint: str):
    def construct(loader: JsonYamlLoader, node) -> Unrepresentable:
        shown = node.value if isinstance(node.value, str) else node.tag
        message = f"{safe_text(str(shown))[:60]} is {kind}, which JSON has no type for; {hint}"
        return Unrepresentable("unsupported_yaml", message)

    return construct


def construct_int(loader: JsonYamlLoader, node) -> int | Unrepresentable:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return Unrepresentable("bad_number", out_of_range(node.value))


JsonYamlLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
QUOTE_IT = "quote it to keep it as text"
for tag, kind in (
    ("tag:yaml.org,2002:timestamp", "a YAML timestamp"),
    ("tag:yaml.org,2002:binary", "YAML !!binary data"),
):
    JsonYamlLoader.add_constructor(tag, yaml_type(kind, QUOTE_IT))
for tag, kind in (
    ("tag:yaml.org,2002:set", "a YAML !!set"),
    ("tag:yaml.org,2002:omap", "a YAML !!omap"),
    ("tag:yaml.org,2002:pairs", "YAML !!pairs"),
):
    JsonYamlLoader.add_constructor(tag, yaml_type(kind, "write a list or an object"))


def yaml_loads(text: str) -> Any:
    """Parse YAML text into checked JSON values; BadInput (400) for anything else."""
    try:
        value = yaml.load(text, Loader=JsonYamlLoader)  # a SafeLoader subclass
    except TooDeep as exc:
        raise BadInput([problem("too_deep", f"the document is {exc}")]) from None
    except yaml.YAMLError as exc:
        message = " ".join(safe_text(str(exc)).split())
        raise BadInput([problem("bad_document", f"document is not JSON or YAML: {message}")])
    check_value(value)
    return value


def document_loads(source: str | bytes, *, format: str | None = None) -> Any:
    """A workflow document from JSON or YAML text (format json, yaml, or None: JSON first)."""
    if format not in (None, "json", "yaml", "yml"):
        raise BadInput([problem("bad_document", f"unknown document format {safe_text(format)!r}")])
    if isinstance(source, bytes | bytearray):
        try:
            source = bytes(source).decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"document is not UTF-8 text (byte {exc.start})"
            raise BadInput([problem("bad_document", message)]) from None
    if format in (None, "json"):
        try:
            return json_loads(source)
        except BadInput as exc:
            if format == "json" or exc.errors[0]["code"] != "malformed_json":
                raise
    return yaml_loads(source)


# --- query strings and other text ---------------------------------------------------------------


def int_param(
    params: QueryDict, name: str, *, default: int | None, minimum: int, maximum: int
) -> int | None:
    """An integer query parameter: ASCII digits only, within [minimum, maximum]."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if not ASCII_INTEGER.fullmatch(value):
        shown = safe_text(value)[:40]
        message = f"{name}: must be a whole number written in digits 0-9, got {shown!r}"
        raise BadInput([problem("bad_parameter", message, field=name)])
    number = int(value)
    if number < minimum:
        message = f"{name}: must be at least {minimum}, got {number}"
        raise BadInput([problem("bad_parameter", message, field=name)])
    if number > maximum:
        message = f"{name}: must be at most {maximum}, got {number}"
        raise BadInput([problem("bad_parameter", message, field=name)])
    return number


def text_param(
    params: QueryDict, name: str, *, default: str | None = None, max_length: int = 200
) -> str | None:
    """A text query parameter: no NUL or lone surrogate, at most `max_length` characters."""
    value = params.get(name)
    if value is None:
        return default
    if BAD_CHARACTERS.search(value):
        raise BadInput([text_problem(name, "the value")])
    if len(value) > max_length:
        message = f"{name}: at most {max_length} characters, got {len(value)}"
        raise BadInput([problem("bad_parameter", message, field=name)])
    return value


def has_bad_characters(text: str) -> bool:
    return BAD_CHARACTERS.search(text) is not None


# --- request bodies (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]) ----------------------------------


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the rules above (DRF's accepts NaN, NUL and any depth)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        return json_loads(stream.read() if stream is not None else b"")


def check_form(data: QueryDict) -> None:
    for key, values in data.lists():
        for value in [key, *values]:
            if isinstance(value, str) and BAD_CHARACTERS.search(value):
                raise BadInput([text_problem(safe_text(key), "the field")])


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        check_form(parsed.data)
        return parsed
