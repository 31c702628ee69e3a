"""Run every benchmark module that exists and print its table (`make bench`).

Each module runs in a process of its own: several set up and tear down their own databases
(Django's test-database helpers), which must not leak into the next one."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys

# Each module has `main() -> None` that prints its own table. Missing ones are skipped.
MODULES = [
    "bench.engine",
    "bench.api",
    "bench.runtime",
    "bench.canvas",
    "bench.scrub",
    "bench.admin",
    "bench.diff",
    "bench.triggers",
    "bench.llm",
]


def main(argv: list[str]) -> int:
    selected = [name for name in MODULES if not argv or name.split(".")[-1] in argv]
    if len(selected) > 1:
        failed = 0
        for name in selected:
            if importlib.util.find_spec(name) is None:
                continue  # that benchmark has not been written yet
            code = subprocess.call([sys.executable, "-m", "bench", name.split(".")[-1]])
            if code:
                print(f"!! {name} exited {code}", flush=True)
                failed += 1
        return 1 if failed else 0
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that benchmark has not been written yet
            raise
        print(f"== {name}", flush=True)
        module.main()
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
