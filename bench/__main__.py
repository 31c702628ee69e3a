"""Run every benchmark module that exists and print its table (`make bench`)."""

from __future__ import annotations

import importlib
import sys

# Each module has `main() -> None` that prints its own table. Missing ones are skipped.
MODULES = ["bench.engine", "bench.api", "bench.runtime", "bench.canvas", "bench.admin"]


def main(argv: list[str]) -> int:
    selected = [name for name in MODULES if not argv or name.split(".")[-1] in argv]
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that benchmark has not been written yet
            raise
        print(f"== {name}")
        module.main()
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
