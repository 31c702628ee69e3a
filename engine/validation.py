"""Validation of a workflow document (SPEC §1): every problem at once, with the SPEC's codes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator

from engine import expressions
from engine.backoff import BACKOFFS
from engine.config import expression_values, templated_values
from engine.document import DEFAULT_RETRY, Problem
from engine.graph import default_registry
from engine.handlers.base import ERROR_HANDLE, Handler, Registry
from engine.planner import JOIN_RULES

NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Ids that only break SPEC §1 by their capitals (the shared conformance scenarios name containers
# `L` and `M`): accepted with a `bad_id` warning, so they run and the canvas asks for a rename.
NODE_ID_WITH_CAPITALS = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SCOPE_NAMES = frozenset({"inputs", "vars", "input", "loop", "node", "run", "env", "secrets"})
RESERVED_IDS = SCOPE_NAMES | {"true", "false", "null"}
ON_FAILURE = ("continue", "halt", "pause")
_validators: dict[type, Draft202012Validator] = {}
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
    return check.run()


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
        max_parallel = settings.get("max_parallel")
        if not _is_int(max_parallel) or max_parallel < 1:
            self.add(
                "bad_config",
                f"settings.max_parallel must be an integer >= 1, got {max_parallel!r}",
                field="settings.max_parallel",
            )
        if settings.get("on_failure") not in ON_FAILURE:
            self.add(
                "bad_config",
                f"settings.on_failure must be one of {', '.join(ON_FAILURE)}, "
                f"got {settings.get('on_failure')!r}",
                field="settings.on_failure",
            )
        self.check_seconds(settings.get("timeout_s"), "settings.timeout_s", positive=True)
        env = settings.get("env")
        if not isinstance(env, list) or not all(isinstance(name, str) for name in env):
            self.add("bad_config", "settings.env must be a list of names", field="settings.env")

    def check_seconds(self, value: Any, field: str, *, positive: bool, **where: Any) -> None:
        if value is None:
            return
        if not _is_number(value) or value < 0 or (positive and value == 0):
            bound = "> 0" if positive else ">= 0"
            self.add(
                "bad_config",
                f"{field} must be a number of seconds {bound}, got {value!r}",
                field=field,
                **where,
            )

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
        self.check_seconds(node.get("timeout_s"), "timeout_s", positive=True, node=node_id)
        for key in ("disabled", "breakpoint"):
            if not isinstance(node.get(key), bool):
                self.add(
                    "bad_config",
                    f"node {node_id}: {key} must be true or false",
                    node=node_id,
                    field=key,
                )
        self.check_retry(node_id, node.get("retry"))

    def check_retry(self, node_id: str, retry: Any) -> None:
        if retry == DEFAULT_RETRY:
            return
        if not isinstance(retry, dict):
            self.add(
                "bad_config",
                f"node {node_id}: retry must be an object",
                node=node_id,
                field="retry",
            )
            return
        attempts = retry.get("max_attempts")
        if not _is_int(attempts) or attempts < 1:
            self.add(
                "bad_config",
                f"node {node_id}: retry.max_attempts must be an integer >= 1, got {attempts!r}",
                node=node_id,
                field="retry.max_attempts",
            )
        if retry.get("backoff") not in BACKOFFS:
            self.add(
                "bad_config",
                f"node {node_id}: retry.backoff must be one of {', '.join(BACKOFFS)}, "
                f"got {retry.get('backoff')!r}",
                node=node_id,
                field="retry.backoff",
            )
        self.check_seconds(retry.get("delay_s"), "retry.delay_s", positive=False, node=node_id)
        self.check_seconds(
            retry.get("max_delay_s"), "retry.max_delay_s", positive=False, node=node_id
        )
        jitter = retry.get("jitter")
        if not isinstance(jitter, bool) and not (_is_number(jitter) and 0 <= jitter <= 1):
            self.add(
                "bad_config",
                f"node {node_id}: retry.jitter must be true, false or a fraction in [0, 1], "
                f"got {jitter!r}",
                node=node_id,
                field="retry.jitter",
            )

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
        validator = _validator(type(handler))
        key = (type(handler), _shape(config))
        if key in _valid_shapes:
            return
        if validator.is_valid(config):
            if len(_valid_shapes) < 10_000:
                _valid_shapes.add(key)
            return
        for error in validator.iter_errors(config):
            if _is_template(error.instance):
                continue
            field, message = _field(error.absolute_path), error.message
            if error.validator == "required" and isinstance(error.instance, dict):
                missing = [name for name in error.validator_value if name not in error.instance]
                if missing:  # name the missing field itself, and the case that needs it
                    field, message = f"{field}.{missing[0]}", "required" + _when(validator, error)
            self.add("bad_config", f"node {node_id}: {field}: {message}", node=node_id, field=field)

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


def _validator(cls: type) -> Draft202012Validator:
    validator = _validators.get(cls)
    if validator is None:
        validator = _validators[cls] = Draft202012Validator(cls.config_schema)
    return validator


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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a run (warnings removed)."""
    return [problem for problem in problems if problem.severity == "error"]
