"""Reading the project's imports from its source (no module is imported): the architecture
tests of the engine (tests/engine/test_architecture.py) and of the Django side
(tests/workflows/test_layers.py) check the graph this builds."""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_modules(package: str) -> dict[str, Path]:
    """Every module under the top-level `package` by its dotted name (a package by its
    `__init__.py`)."""
    modules = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and getattr(test, "id", getattr(test, "attr", "")) == (
        "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names) for every import statement, in functions too (they run when called),
    but not under `if TYPE_CHECKING:` (never run). Relative imports are made absolute."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    pending: list[ast.AST] = [ast.parse(path.read_text(), filename=str(path))]
    while pending:
        node = pending.pop()
        if _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, (base, node.module or "")))
            yield module, [alias.name for alias in node.names]
        pending.extend(ast.iter_child_nodes(node))


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules among `modules` it imports. `from engine import budget` imports
    the module `engine.budget`; `from engine.handlers import registry`, the package."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for module, names in imports(path):
            submodules = {f"{module}.{n}" for n in names} & modules.keys()
            if submodules:
                targets |= submodules
            if (module in modules and len(submodules) < len(names)) or not names:
                targets |= {module} & modules.keys()
        graph[name] = targets - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def long_definitions(
    name: str, path: Path, max_module_lines: int, max_function_lines: int
) -> Iterator[str]:
    """`name` when the module is too long, `name: Class.function` for each function that is."""
    text = path.read_text()
    if len(text.splitlines()) > max_module_lines:
        yield name
    pending: list[tuple[str, ast.AST]] = [("", ast.parse(text))]
    while pending:
        prefix, node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qualified = f"{prefix}{child.name}"
                lines = child.end_lineno - child.lineno + 1
                if not isinstance(child, ast.ClassDef) and lines > max_function_lines:
                    yield f"{name}: {qualified}"
                pending.append((f"{qualified}.", child))
