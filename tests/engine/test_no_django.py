"""engine/ is a library: it imports nothing from Django."""

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def test_no_module_under_engine_imports_django():
    offenders = []
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] == "django"
            ]
    assert offenders == []
    assert len(list(ENGINE.rglob("*.py"))) > 5  # the scan really saw the engine


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
