"""Validation of a workflow document (SPEC §1): every problem at once, with the SPEC's codes."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from engine import expressions
from engine.config import expression_values, templated_values
from engine.document import NODE_FIELDS_SCHEMA, SETTINGS_SCHEMA, Problem
from engine.graph import default_registry
from engine.handlers.base import ERROR_HANDLE, Handler, Registry
from engine.limits import MAX_POSITION
from engine.planner import JOIN_RULES

NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Ids that only break SPEC §1 by their capitals (the shared conformance scenarios name containers
# `L` and `M`): accepted with a `bad_id` warning, so they run and the canvas asks for a rename.
NODE_ID_WITH_CAPITALS = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SCOPE_NAMES = frozenset({"inputs", "vars", "input", "loop", "node", "run", "env", "secrets"})
RESERVED_IDS = SCOPE_NAMES | {"true", "false", "null"}
_validators: dict[type, Any] = {}
# Configs known valid, by node type and shape: templates are exempt from the schema, so two
# configs that differ only in their template strings validate alike (it saves the schema walk
# on large graphs, where most nodes of a type look the same).
_valid_shapes: set[tuple[type, str]] = set()


def validate_document(document: Any, *, registry: Registry | None = None) -> list[Problem]:
    """All problems of a document that `load_document` returned (errors and warnings)."""
    if not isinstance(document, dict):
        return [Problem("bad_document", "a workflow document must be an object")]
    registry = default_registry() if registry is None else registry
    check = _Check(document, registry)
    try:
        return check.run()
    except RecursionError:  # JSON nested thousands deep: the schema walks cannot follow it
        return [Problem("bad_document", "the document is nested too deeply")]


class _Check:
    """One validation pass; collects problems instead of stopping at the first."""

    def __init__(self, document: dict, registry: Registry) -> None:
        self.document = document
        self.registry = registry
        self.problems: list[Problem] = []
        self.nodes: dict[str, dict] = {}  # first node of each id
        self.handlers: dict[str, Handler] = {}
        self.preds: dict[str, list[str]] = {}
        self.succs: dict[str, list[str]] = {}

    def add(self, code: str, message: str, **where: Any) -> None:
        self.problems.append(Problem(code, message, **where))

    def run(self) -> list[Problem]:
        self.check_top_level()
        self.check_settings()
        self.check_nodes()
        self.check_parents()
        self.check_edges()
        cycles = self.check_cycles()
        ancestors = self.ancestors(cyclic=bool(cycles))
        for node_id, node in self.nodes.items():
            handler = self.handlers.get(node_id)
            if handler is not None:
                self.check_config(node_id, node, handler)
                self.check_expressions(node_id, node, handler, ancestors)
        self.check_reachable()
        self.check_values()
        return self.problems

    # ---- document, settings ------------------------------------------------------------

    def check_top_level(self) -> None:
        doc = self.document
        if doc.get("version") != 1:
            self.add("bad_document", f"unsupported version {doc.get('version')!r}; expected 1")
        for key in ("inputs", "variables"):
            if not isinstance(doc.get(key), dict):
                self.add("bad_document", f"{key} must be an object", field=key)
        for key in ("nodes", "edges"):
            if not isinstance(doc.get(key), list):
                self.add("bad_document", f"{key} must be a list", field=key)

    def check_settings(self) -> None:
        settings = self.document.get("settings")
        if not isinstance(settings, dict):
            self.add("bad_config", "settings must be an object", field="settings")
            return
        for field, message in schema_problems(_SETTINGS_VALIDATOR, settings, "settings"):
            self.add("bad_config", f"{field} {message}", field=field)

    # ---- nodes -------------------------------------------------------------------------

    def check_nodes(self) -> None:
        nodes = self.document.get("nodes")
        if not isinstance(nodes, list):
            return
        for index, node in enumerate(nodes):
            if not isinstance(node, dict):
                self.add(
                    "bad_document", f"nodes[{index}] must be an object", field=f"nodes[{index}]"
                )
                continue
            node_id = node.get("id")
            if not self.check_id(node_id, index):
                continue
            if node_id in self.nodes:
                self.add(
                    "duplicate_id", f"node id {node_id!r} is used more than once", node=node_id
                )
                continue
            self.nodes[node_id] = node
            self.preds[node_id] = []
            self.succs[node_id] = []
            handler = (
                self.registry.get(node.get("type")) if isinstance(node.get("type"), str) else None
            )
            if handler is None:
                self.add(
                    "unknown_type",
                    f"node {node_id}: unknown type {node.get('type')!r}",
                    node=node_id,
                )
            else:
                self.handlers[node_id] = handler
            self.check_node_fields(node_id, node)

    def check_id(self, node_id: Any, index: int) -> bool:
        if isinstance(node_id, str) and NODE_ID_WITH_CAPITALS.match(node_id):
            if not NODE_ID.match(node_id):
                self.add(
                    "bad_id",
                    f"node id {node_id!r} has capital letters; SPEC ids are lowercase "
                    f"(^[a-z][a-z0-9_]{{0,63}}$): it runs, but rename it to {node_id.lower()!r}",
                    node=node_id,
                    severity="warning",
                )
        else:
            self.add(
                "bad_id",
                f"nodes[{index}]: id {node_id!r} must match ^[a-z][a-z0-9_]{{0,63}}$",
                node=node_id if isinstance(node_id, str) else None,
            )
            return False
        if node_id in RESERVED_IDS:
            self.add("bad_id", f"node id {node_id!r} is reserved for expressions", node=node_id)
            return False
        return True

    def check_node_fields(self, node_id: str, node: dict) -> None:
        if not isinstance(node.get("config"), dict):
            self.add(
                "bad_config",
                f"node {node_id}: config must be an object",
                node=node_id,
                field="config",
            )
        if node.get("join") not in JOIN_RULES:
            self.add(
                "bad_config",
                f"node {node_id}: join must be one of {', '.join(JOIN_RULES)}, "
                f"got {node.get('join')!r}",
                node=node_id,
                field="join",
            )
        for field, message in node_field_problems(node):
            self.add("bad_config", f"node {node_id}: {field} {message}", node=node_id, field=field)

    def check_parents(self) -> None:
        for node_id, node in self.nodes.items():
            parent = node.get("parent")
            if parent is None:
                continue
            if parent not in self.nodes:
                self.add(
                    "missing_node",
                    f"node {node_id}: parent {parent!r} does not exist",
                    node=node_id,
                    field="parent",
                )
                continue
            handler = self.handlers.get(parent)
            if handler is not None and not handler.container:
                self.add(
                    "bad_config",
                    f"node {node_id}: parent {parent!r} is a {handler.type}, not a container",
                    node=node_id,
                    field="parent",
                )
        for node_id in self.nodes:
            chain = [node_id]
            parent = self.parent_of(node_id)
            while parent is not None:
                if parent in chain:
                    loop = " -> ".join([*chain[chain.index(parent) :], parent])
                    self.add(
                        "cycle", f"containers nest in a cycle: {loop}", node=node_id, field="parent"
                    )
                    break
                chain.append(parent)
                parent = self.parent_of(parent)

    def parent_of(self, node_id: str) -> str | None:
        parent = self.nodes[node_id].get("parent")
        return parent if parent in self.nodes else None

    # ---- edges -------------------------------------------------------------------------

    def check_edges(self) -> None:
        edges = self.document.get("edges")
        if not isinstance(edges, list):
            return
        seen: set = set()
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict):
                self.add(
                    "bad_document", f"edges[{index}] must be an object", field=f"edges[{index}]"
                )
                continue
            edge_id = edge.get("id")
            if edge_id in seen:
                self.add(
                    "duplicate_id", f"edge id {edge_id!r} is used more than once", edge=edge_id
                )
            seen.add(edge_id)
            source, target = edge.get("source"), edge.get("target")
            ok = True
            for end, name in (("source", source), ("target", target)):
                if not isinstance(name, str) or name not in self.nodes:
                    self.add(
                        "missing_node",
                        f"edge {edge_id}: {end} node {name!r} does not exist",
                        edge=edge_id,
                        field=end,
                    )
                    ok = False
            if not ok:
                continue
            self.check_handles(edge_id, edge, source, target)
            if self.parent_of(source) != self.parent_of(target):
                self.add(
                    "container_edge",
                    f"edge {edge_id}: {source} -> {target} crosses a container boundary",
                    edge=edge_id,
                )
            self.preds[target].append(source)
            self.succs[source].append(target)

    def check_handles(self, edge_id: str, edge: dict, source: str, target: str) -> None:
        handler = self.handlers.get(source)
        handle = edge.get("source_handle")
        if handler is not None:
            config = self.nodes[source].get("config")
            outs = handler.output_handles(config if isinstance(config, dict) else {})
            if handle != ERROR_HANDLE and handle not in outs:
                names = ", ".join([*outs, ERROR_HANDLE])
                self.add(
                    "unknown_handle",
                    f"edge {edge_id}: {source} ({handler.type}) has no output {handle!r}; "
                    f"it has {names}",
                    edge=edge_id,
                    node=source,
                    field="source_handle",
                )
        handler = self.handlers.get(target)
        handle = edge.get("target_handle")
        if handler is not None and handle not in handler.inputs:
            self.add(
                "unknown_handle",
                f"edge {edge_id}: {target} ({handler.type}) has no input {handle!r}; "
                f"it has {', '.join(handler.inputs)}",
                edge=edge_id,
                node=target,
                field="target_handle",
            )

    def check_cycles(self) -> list[list[str]]:
        """Report each cycle once, named in edge order: `a -> b -> c -> a`."""
        color = dict.fromkeys(self.nodes, 0)  # 0 new, 1 on the stack, 2 done
        found: list[list[str]] = []
        seen: set = set()
        for start in self.nodes:
            if color[start]:
                continue
            path = [start]
            color[start] = 1
            stack = [iter(self.succs[start])]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                    color[path.pop()] = 2
                elif color[nxt] == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    key = frozenset(cycle)
                    if key not in seen:
                        seen.add(key)
                        found.append(cycle)
                elif color[nxt] == 0:
                    color[nxt] = 1
                    path.append(nxt)
                    stack.append(iter(self.succs[nxt]))
        for cycle in found:
            self.add("cycle", f"the graph has a cycle: {' -> '.join(cycle)}", node=cycle[0])
        return found

    def ancestors(self, cyclic: bool) -> dict[str, int]:
        """Each node's upstream ancestors as a bit set (bit = position in `self.nodes`),
        including, for a container body node, the ancestors of its containers."""
        ids = list(self.nodes)
        bit = {node_id: 1 << i for i, node_id in enumerate(ids)}
        result: dict[str, int] = {}
        if cyclic:
            for node_id in ids:
                result[node_id] = self.reach_back(node_id, bit)
        else:
            remaining = {node_id: len(self.preds[node_id]) for node_id in ids}
            ready = [node_id for node_id in ids if not remaining[node_id]]
            while ready:
                node_id = ready.pop()
                mask = 0
                for p in self.preds[node_id]:
                    mask |= result[p] | bit[p]
                result[node_id] = mask
                for s in self.succs[node_id]:
                    remaining[s] -= 1
                    if not remaining[s]:
                        ready.append(s)
        for node_id in ids:
            parent, depth = self.parent_of(node_id), 0
            while parent is not None and depth < len(ids):
                result[node_id] |= result.get(parent, 0)
                parent, depth = self.parent_of(parent), depth + 1
        self.bits = bit
        return result

    def reach_back(self, node_id: str, bit: dict[str, int]) -> int:
        mask, todo = 0, list(self.preds[node_id])
        while todo:
            p = todo.pop()
            if not mask & bit[p]:
                mask |= bit[p]
                todo.extend(self.preds[p])
        return mask

    # ---- config and expressions --------------------------------------------------------

    def check_config(self, node_id: str, node: dict, handler: Handler) -> None:
        config = node.get("config")
        if not isinstance(config, dict):
            return
        validator = config_validator(type(handler))
        key = (type(handler), _shape(config))
        if key in _valid_shapes:
            return
        if validator.is_valid(config):
            if len(_valid_shapes) < 10_000:
                _valid_shapes.add(key)
            return
        seen: set[str] = set()
        for error in validator.iter_errors(config):
            if _is_template(error.instance):
                continue
            for field, message in _config_problems(validator, error):
                if field in seen:
                    continue
                seen.add(field)
                self.add(
                    "bad_config", f"node {node_id}: {field}: {message}", node=node_id, field=field
                )

    def check_expressions(
        self, node_id: str, node: dict, handler: Handler, ancestors: dict[str, int]
    ) -> None:
        config = node.get("config")
        if not isinstance(config, dict):
            return
        for field, expr in self.expressions_of(config, handler):
            try:
                paths = expressions.referenced_paths(expr)
            except expressions.ExpressionError as exc:
                self.add(
                    "bad_expression",
                    f"node {node_id}: {field}: {exc.message}",
                    node=node_id,
                    field=field,
                )
                continue
            if any(path[0] == "secrets" for path in paths) and not _sends(handler, config, field):
                message = f"node {node_id}: {field}: {self.secrets_rule()}"
                self.add("bad_reference", message, node=node_id, field=field)
            for path in sorted(paths):
                message = self.bad_reference(node_id, path, ancestors)
                if message is not None:
                    self.add(
                        "bad_reference",
                        f"node {node_id}: {field}: {message}",
                        node=node_id,
                        field=field,
                    )

    @staticmethod
    def expressions_of(config: dict, handler: Handler) -> Iterator[tuple[str, str]]:
        paths = handler.expression_fields
        for field, value in templated_values(config, paths):
            for expr in expressions.template_expressions(value):
                yield field, expr
        for field, value in expression_values(config, paths):
            if isinstance(value, str):
                yield field, value

    def container_reads(self, node_id: str, path: tuple[str, ...]) -> str | None:
        """A container's own condition reads `loop` and its body's nodes (the latest
        iteration): "" when `path` is such a read, None when it is not."""
        handler = self.handlers.get(node_id)
        if handler is None or not handler.container:
            return None
        if path[0] == "loop":
            return ""
        if path[0] in self.nodes:
            parent = self.parent_of(path[0])
            for _ in range(len(self.nodes)):
                if parent is None:
                    break
                if parent == node_id:
                    return ""
                parent = self.parent_of(parent)
        return None

    def bad_reference(self, node_id: str, path: tuple[str, ...], ancestors: dict) -> str | None:
        root = path[0]
        name = path[1] if len(path) > 1 else None
        if root in ("input", "node", "run", "secrets"):
            return None
        own = self.container_reads(node_id, path)
        if own is not None:
            return own or None
        if root == "loop":
            if self.nodes[node_id].get("parent") is None:
                return "loop is only defined inside a loop or map body"
            return None
        if root == "inputs":
            declared = self.document.get("inputs")
            if name is not None and isinstance(declared, dict) and name not in declared:
                return f"inputs.{name} is not a declared input"
            return None
        if root == "vars":
            variables = self.document.get("variables")
            if name is not None and isinstance(variables, dict) and name not in variables:
                return f"vars.{name} is not a defined variable"
            return None
        if root == "env":
            settings = self.document.get("settings")
            allowed = settings.get("env") if isinstance(settings, dict) else None
            if name is not None and (not isinstance(allowed, list) or name not in allowed):
                return f"env.{name} is not allow-listed in settings.env"
            return None
        if root in self.nodes:
            if not ancestors.get(node_id, 0) & self.bits[root]:
                return f"{root} is not upstream of {node_id}"
            return None
        return f"unknown name {root!r} (not a node, input or variable)"

    # ---- every value ------------------------------------------------------------------------

    def check_values(self) -> None:
        """Numbers are finite everywhere (JSON has no NaN or infinity, and PostgreSQL refuses
        them); outside node configs (checked with their expressions) no text reads `secrets`.
        A field a check above already reported is not reported again."""
        if _plain_json(self.document):
            return
        reported = {(p.node, p.field) for p in self.problems}
        nodes = self.document.get("nodes")
        for path, value in _values_of_note(self.document):
            node, field = self.locate(nodes, path)
            if (node, field) in reported:
                continue
            if isinstance(value, float):
                message = f"{field} must be a finite number, got {value!r}"
                self.add("bad_document", _on(node, message), node=node, field=field)
            elif _read_as_document(path) and _reads_secrets(value):
                message = f"{field}: {self.secrets_rule()}"
                self.add("bad_reference", _on(node, message), node=node, field=field)

    def locate(self, nodes: Any, path: tuple) -> tuple[str | None, str]:
        """A value's node (when it is inside a node with a valid id) and field."""
        if len(path) > 2 and path[0] == "nodes" and isinstance(nodes, list):
            node = nodes[path[1]]
            node_id = node.get("id") if isinstance(node, dict) else None
            if node_id in self.nodes and self.nodes[node_id] is node:
                return node_id, _join("", list(path[2:]))
        return None, _join("", list(path))

    def secrets_rule(self) -> str:
        """`secrets may only be used in config.headers of http nodes`: where they may be."""
        places = [
            f"config.{field} of {name} nodes"
            for name in self.registry.names()
            for field in self.registry.get(name).secret_fields
        ]
        return f"secrets may only be used in {' or '.join(places) or 'no field'}"

    # ---- reachability ------------------------------------------------------------------

    def check_reachable(self) -> None:
        """Warn about nodes no root reaches (only in a cycle), and, when the workflow has a
        `start` node, about top-level nodes it does not reach (they run as roots anyway)."""
        top = [n for n in self.nodes if self.nodes[n].get("parent") is None]
        roots = [n for n in top if not self.preds[n]]
        starts = [n for n in top if self.nodes[n].get("type") == "start"]
        reached = self.reach(roots)
        from_start = self.reach(starts) if starts else None
        for node_id in top:
            if node_id not in reached:
                message = f"node {node_id} is unreachable: no root leads to it"
            elif from_start is not None and node_id not in from_start:
                message = f"node {node_id} is not connected to a start node; it runs as a root"
            else:
                continue
            self.add("unreachable", message, node=node_id, severity="warning")

    def reach(self, roots: list[str]) -> set[str]:
        seen, todo = set(roots), list(roots)
        while todo:
            for s in self.succs[todo.pop()]:
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        return seen


def config_validator(cls: type) -> Any:
    """The (cached) validator of a node type's `config_schema`."""
    validator = _validators.get(cls)
    if validator is None:
        validator = _validators[cls] = Validator(cls.config_schema)
    return validator


_BOUND_CHECKS = frozenset({"maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"})
_bounds: dict[int, tuple[dict, Any]] = {}  # id(schema) -> (schema, its validator or None)


def out_of_bounds(handler: Handler, config: dict) -> str | None:
    """`config.count: must be at most 100000, got …` when a rendered config holds a number
    past its type's bounds (or NaN, an infinity where a number goes); None when it holds
    none. Only bounds: what else a template yields is the handler's to judge."""
    validator = _bounds_validator(handler.config_schema)
    if validator is None:
        return None
    for error in validator.iter_errors(config):
        value = error.instance
        non_finite = isinstance(value, float) and not math.isfinite(value)
        if error.validator in _BOUND_CHECKS or (error.validator == "type" and non_finite):
            return f"{_field(error.absolute_path)}: {bound_message(error)}"
    return None


def _bounds_validator(schema: dict) -> Any:
    """The validator of a schema that bounds some number, else None (nothing to check)."""
    known = _bounds.get(id(schema))
    if known is None or known[0] is not schema:
        text = json.dumps(schema)
        bounded = any(f'"{name}"' in text for name in _BOUND_CHECKS)
        known = _bounds[id(schema)] = (schema, Validator(schema) if bounded else None)
    return known[1]


def _shape(config: dict) -> str:
    try:
        return json.dumps(config, sort_keys=True, default=_unknown, cls=_ShapeEncoder)
    except (TypeError, ValueError):
        return repr(config)


def _unknown(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


class _ShapeEncoder(json.JSONEncoder):
    """Encodes every template string as the same string."""

    def encode(self, o: Any) -> str:
        return super().encode(_blank_templates(o))


def _blank_templates(value: Any) -> Any:
    if isinstance(value, str):
        return "{{}}" if "{{" in value else value
    if isinstance(value, dict):
        return {key: _blank_templates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blank_templates(item) for item in value]
    return value


def _on(node: str | None, message: str) -> str:
    return f"node {node}: {message}" if node is not None else message


# What a workflow document holds outside its node configs (a run's copy adds `edits`: the
# configs a user replaced, checked when they were made).
_DOCUMENT_PARTS = frozenset(
    {"name", "description", "tags", "inputs", "variables", "settings", "nodes", "edges"}
)


def _read_as_document(path: tuple) -> bool:
    """Whether a value is document text outside the node configs (those are checked with
    their expressions, where the fields that send secrets are known)."""
    if path[0] == "nodes":
        return path[2:3] != ("config",)
    return path[0] in _DOCUMENT_PARTS


def _plain_json(document: dict) -> bool:
    """The common case, found at C speed: JSON without NaN or infinities that does not even
    mention `secrets`."""
    try:
        return "secrets" not in json.dumps(document, allow_nan=False, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return False


def _values_of_note(document: dict) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of each float that is not finite and each string that may hold a
    template reading `secrets`, anywhere in the document. Iterative: nesting depth is not
    bounded here."""
    stack: list[tuple[Any, tuple]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(item, str):
                if "secrets" in item:
                    yield (*path, key), item
            elif isinstance(item, float):
                if not math.isfinite(item):
                    yield (*path, key), item
            elif isinstance(item, dict | list):
                stack.append((item, (*path, key)))


def _sends(handler: Handler, config: dict, field: str) -> bool:
    """Whether a config field (`config.headers.Authorization`) lies in one of the fields
    where the handler sends secrets (`secret_fields`)."""
    for where, _ in expression_values(config, handler.secret_fields):
        if field == where or field.startswith((where + ".", where + "[")):
            return True
    return False


def _reads_secrets(text: str) -> bool:
    if "{{" not in text:
        return False
    for expr in expressions.template_expressions(text):
        try:
            paths = expressions.referenced_paths(expr)
        except expressions.ExpressionError:
            continue
        if any(path[0] == "secrets" for path in paths):
            return True
    return False


def _config_problems(validator: Any, error: Any) -> Iterator[tuple[str, str]]:
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:  # name the missing field itself, and the case that needs it
            yield (
                f"{_field(error.absolute_path)}.{missing[0]}",
                "required" + _when(validator, error),
            )
            return
    yield from error_problems(error, "config")


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _when(validator: Any, error: Any) -> str:
    """` when mode is for_each` for a requirement from an `if`/`then` on constant values."""
    path = list(error.schema_path)
    if "then" not in path:
        return ""
    schema: Any = validator.schema
    for part in path[: path.index("then")]:
        schema = schema[part]
    condition = schema.get("if", {}).get("properties", {})
    cases = [
        f"{name} is {spec['const']}"
        for name, spec in condition.items()
        if isinstance(spec, dict) and "const" in spec
    ]
    cases += [
        f"{name} is one of {', '.join(map(str, spec['enum']))}"
        for name, spec in condition.items()
        if isinstance(spec, dict) and "enum" in spec
    ]
    return f" when {' and '.join(cases)}" if cases else ""


def _field(path: Any) -> str:
    field = "config"
    for part in path:
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    return field


def _finite_number(checker: Any, value: Any) -> bool:
    """JSON numbers only: no booleans, NaN or infinities (which JSON cannot even write)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _whole_number(checker: Any, value: Any) -> bool:
    """An integer is an int: `3.0` (and `1e9`) is refused as a count, as the handlers do."""
    return isinstance(value, int) and not isinstance(value, bool)


# Draft 2020-12 with the two number types made strict; every schema of the engine (node
# types' configs, node fields, settings) is checked with it.
Validator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": _finite_number, "integer": _whole_number}
    ),
)
_NODE_FIELDS_VALIDATOR = Validator(NODE_FIELDS_SCHEMA)
_SETTINGS_VALIDATOR = Validator(SETTINGS_SCHEMA)
_TYPE_NAMES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


_valid_node_fields: set[tuple] = set()


def node_field_problems(node: dict) -> Iterator[tuple[str, str]]:
    """(field, message) for the node's fields besides its config (NODE_FIELDS_SCHEMA). Most
    nodes of a graph share their retry and timeout, and their position is two plain numbers:
    the schema walk is kept for the others (it dominated validating a 5,000-node graph)."""
    key = _node_fields_key(node)
    if key is None or key not in _valid_node_fields or not _plain_position(node.get("position")):
        found = list(schema_problems(_NODE_FIELDS_VALIDATOR, node, ""))
        if found:
            yield from found
        elif key is not None and len(_valid_node_fields) < 10_000:
            _valid_node_fields.add(key)


def _node_fields_key(node: dict) -> tuple | None:
    """The node's fields but position, with their types (`True == 1`), hashable; or None."""
    get = node.get
    retry = get("retry")
    if type(retry) is dict:
        retry = (tuple(retry.items()), tuple(map(type, retry.values())))
    timeout, disabled, breakpoint = get("timeout_s"), get("disabled"), get("breakpoint")
    key = (retry, timeout, type(timeout), disabled, type(disabled), breakpoint, type(breakpoint))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _plain_position(position: Any) -> bool:
    if position is None:
        return True
    if type(position) is not dict or position.keys() - {"x", "y"}:
        return False
    return all(
        type(value) in (int, float) and -MAX_POSITION <= value <= MAX_POSITION
        for value in position.values()
    )


def schema_problems(validator: Any, value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """(field, message) for each way `value` breaks the validator's schema, the field named
    from `prefix` (`settings.max_parallel`, `retry.max_attempts`) and the message plain:
    `must be at most 100, got 1000`."""
    seen: set[str] = set()
    for error in validator.iter_errors(value):
        for field, message in error_problems(error, prefix):
            if field not in seen:  # `1e9` attempts: not an integer, and too many: say one
                seen.add(field)
                yield field, message


def error_problems(error: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """One JSON Schema error as (field, message); an object with unknown keys names each."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        for name in sorted(k for k in error.instance if k not in known):
            yield _join(prefix, [*path, name]), "is an unknown field"
        return
    yield _join(prefix, path), bound_message(error)


def bound_message(error: Any) -> str:
    """A JSON Schema error as a sentence about its value, for the bounds and types users meet
    most; other errors keep jsonschema's own message."""
    kind, limit, got = error.validator, error.validator_value, _shown(error.instance)
    if kind == "maximum":
        return f"must be at most {_shown(limit)}, got {got}"
    if kind == "exclusiveMaximum":
        return f"must be less than {_shown(limit)}, got {got}"
    if kind == "minimum":
        return f"must be at least {_shown(limit)}, got {got}"
    if kind == "exclusiveMinimum":
        return f"must be greater than {_shown(limit)}, got {got}"
    if kind == "type":
        wanted = limit if isinstance(limit, list) else [limit]
        names = " or ".join(_TYPE_NAMES.get(name, name) for name in wanted)
        return f"must be {names}, got {got}"
    if kind == "enum":
        return f"must be one of {', '.join(map(str, limit))}, got {got}"
    return error.message


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        try:
            return f"{float(value):g}"  # 1e+300, not three hundred digits
        except OverflowError:
            return "a number past 1e+308"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(prefix: str, path: list) -> str:
    field = prefix
    for part in path:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            field += f".{part}" if field else str(part)
    return field


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a run (warnings removed)."""
    return [problem for problem in problems if problem.severity == "error"]
