"""What issue 14's runtime package owns stays short: no module over 500 lines, no function
over 50. (Its import circles and layering are checked with the rest of the Django side in
tests/workflows/test_layers.py.)"""

from __future__ import annotations

from tests.imports import long_definitions, package_modules

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 50


def test_the_runtime_and_control_stay_short():
    modules = {
        name: path
        for name, path in package_modules("workflows").items()
        if name.startswith("workflows.runtime") or name == "workflows.control"
    }
    assert "workflows.runtime.drive" in modules
    long = [
        entry
        for name, path in modules.items()
        for entry in long_definitions(name, path, MAX_MODULE_LINES, MAX_FUNCTION_LINES)
    ]
    assert long == [], f"over {MAX_MODULE_LINES} / {MAX_FUNCTION_LINES} lines"
