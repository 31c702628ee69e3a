"""The runtime package imports one way: its modules form no circle (imports inside functions
count, `if TYPE_CHECKING:` ones do not), and nothing in it imports the layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "workflows" / "runtime"
ABOVE = ("workflows.control", "workflows.api", "workflows.consumers", "workflows.admin")


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module an import names, outside `if TYPE_CHECKING:` blocks."""
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        found |= imported_modules(node)
    return found


def runtime_imports() -> dict[str, set[str]]:
    graph = {}
    for path in RUNTIME.glob("*.py"):
        names = imported_modules(ast.parse(path.read_text()))
        graph[path.stem] = names
    return graph


def test_runtime_modules_import_each_other_without_a_circle():
    modules = runtime_imports()
    prefix = "workflows.runtime."
    edges = {
        name: {n[len(prefix) :].split(".")[0] for n in names if n.startswith(prefix)} - {name}
        for name, names in modules.items()
    }
    edges = {name: targets & edges.keys() for name, targets in edges.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(edges[name]):
            assert target not in path, f"import circle: {' -> '.join([*path, target])}"
            if target not in done:
                visit(target, [*path, target])
        done.add(name)

    for name in sorted(edges):
        visit(name, [name])


def test_the_runtime_imports_nothing_from_the_layers_above_it():
    for name, imports in runtime_imports().items():
        upward = sorted(n for n in imports if n.startswith(ABOVE))
        assert not upward, f"workflows/runtime/{name}.py imports {upward}"
