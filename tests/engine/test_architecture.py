"""engine/ is a library whose layers run one way: it imports nothing from Django or the
project's Django side (workflows/, switchyard/), and its modules import each other without
circles, so the folder tree can be read as the architecture diagram (issue 14)."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"

# Top-level packages engine/ must never import: Django and what is built on it.
FORBIDDEN = {"django", "rest_framework", "channels", "workflows", "switchyard"}

# Circles that exist today, each allowed by one of its imports (importer, imported). Issue 14
# removes them in other slices; a new circle fails, and so does an entry here once its circle
# is gone (delete it then).
KNOWN_CIRCLES = {
    # config checks a rendered config's bounds with validation.out_of_bounds, and validation
    # reads config's expression paths (issue 14: one description of the document).
    ("engine.config", "engine.validation"),
}

# Modules over MAX_MODULE_LINES and functions over MAX_FUNCTION_LINES today (issue 14 splits
# them in other slices); like KNOWN_CIRCLES, an entry that no longer applies fails.
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 50
KNOWN_LONG = {"engine.validation"}


def engine_modules() -> dict[str, Path]:
    """Every module under engine/ by its dotted name (a package by its `__init__.py`)."""
    modules = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
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
    package = ".".join(path.relative_to(ENGINE.parent).with_suffix("").parts[:-1])
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


def import_graph() -> dict[str, set[str]]:
    """Module -> the engine modules it imports. `from engine import budget` imports the
    module `engine.budget`; `from engine.handlers import registry`, the package."""
    modules = engine_modules()
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


def test_the_circle_finder_finds_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert circles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "engine.budget" in graph["engine.expressions.compiler"]  # from engine import budget
    assert "engine.handlers" in graph["engine.graph"]  # a package, imported in a function
    assert "engine.handlers.flow" in graph["engine.handlers.builtin"]
    # only under TYPE_CHECKING
    assert "engine.execution.execution" not in graph["engine.execution.bodies"]


def test_engine_modules_import_each_other_without_circles():
    graph = import_graph()
    for importer, imported in KNOWN_CIRCLES:
        assert imported in graph[importer], (
            f"{importer} -> {imported}: remove it from KNOWN_CIRCLES"
        )
        graph[importer] = graph[importer] - {imported}
    assert circles(graph) == []


def long_definitions(name: str, path: Path) -> Iterator[str]:
    """`name` when the module is too long, `name: Class.function` for each function that is."""
    text = path.read_text()
    if len(text.splitlines()) > MAX_MODULE_LINES:
        yield name
    pending: list[tuple[str, ast.AST]] = [("", ast.parse(text))]
    while pending:
        prefix, node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qualified = f"{prefix}{child.name}"
                lines = child.end_lineno - child.lineno + 1
                if not isinstance(child, ast.ClassDef) and lines > MAX_FUNCTION_LINES:
                    yield f"{name}: {qualified}"
                pending.append((f"{qualified}.", child))


def test_engine_modules_and_functions_stay_short():
    long = {
        entry for name, path in engine_modules().items() for entry in long_definitions(name, path)
    }
    assert long - KNOWN_LONG == set(), f"over {MAX_MODULE_LINES} / {MAX_FUNCTION_LINES} lines"
    assert KNOWN_LONG - long == set(), "short now: remove from KNOWN_LONG"


def test_no_module_under_engine_imports_django_or_the_django_side():
    offenders = [
        f"{name}: {module}"
        for name, path in engine_modules().items()
        for module, _ in imports(path)
        if module.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []
    assert len(engine_modules()) > 5  # the scan really saw the engine


def test_engine_imports_and_runs_without_django_loaded():
    code = (
        "import sys, asyncio, pkgutil, importlib, engine\n"
        "for module in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(module.name)\n"
        "from engine import load_document, Graph, Execution\n"
        "node = {'id': 'a', 'type': 'transform', 'config': {'output': 1}}\n"
        "doc = load_document({'nodes': [node]})\n"
        "report = asyncio.run(Execution(Graph.from_document(doc)).run())\n"
        "assert report.status == 'succeeded', report.status\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'django')\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ENGINE.parent, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
