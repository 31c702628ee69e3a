"""engine/ is a library whose layers run one way: it imports nothing from Django or the
project's Django side (workflows/, switchyard/), and its modules import each other without
circles, so the folder tree can be read as the architecture diagram (issue 14)."""

import subprocess
import sys
from pathlib import Path

from tests.imports import circles, imports, long_definitions, package_modules
from tests.imports import import_graph as modules_import_graph

ENGINE = Path(__file__).resolve().parents[2] / "engine"

# Top-level packages engine/ must never import: Django and what is built on it.
FORBIDDEN = {"django", "rest_framework", "channels", "workflows", "switchyard"}

# Circles that exist today, each allowed by one of its imports (importer, imported). Issue 14
# removes them in other slices; a new circle fails, and so does an entry here once its circle
# is gone (delete it then).
KNOWN_CIRCLES: set[tuple[str, str]] = set()

# Modules over MAX_MODULE_LINES and functions over MAX_FUNCTION_LINES today (issue 14 splits
# them in other slices); like KNOWN_CIRCLES, an entry that no longer applies fails.
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 50
KNOWN_LONG: set[str] = set()


def engine_modules() -> dict[str, Path]:
    """Every module under engine/ by its dotted name (a package by its `__init__.py`)."""
    return package_modules("engine")


def import_graph() -> dict[str, set[str]]:
    """Module -> the engine modules it imports."""
    return modules_import_graph(engine_modules())


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


def test_engine_modules_and_functions_stay_short():
    long = {
        entry
        for name, path in engine_modules().items()
        for entry in long_definitions(name, path, MAX_MODULE_LINES, MAX_FUNCTION_LINES)
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


def test_the_model_sdks_load_only_when_a_model_is_called():
    """openai and anthropic weigh about 65 MB of memory: a web process, a worker or the CLI
    that never runs an `llm` node does not carry them (the engine bench's random_5000 peak RSS
    went from 57 to 123 MB when the llm node imported them with the engine)."""
    code = (
        "import sys, resource, django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'switchyard.settings')\n"
        "django.setup()\n"
        "import engine.handlers, switchyard.asgi, workflows.runtime.worker, workflows.api.urls\n"
        "print(sorted(n for n in ('openai', 'anthropic') if n in sys.modules))\n"
        "from engine.handlers.llm_providers import sdks\n"
        "sdks()\n"
        "print(sorted(n for n in ('openai', 'anthropic') if n in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ENGINE.parent, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "['anthropic', 'openai']"]
