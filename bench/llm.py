"""`python -m bench llm`: a 2,000-token `llm` stream through a real worker to a websocket client
(tests/runtime/test_llm_stream_bench.py against the local OpenAI-compatible server), printing
the provider's time, the client's, the overhead and how many `node.stream` events carried it.
Targets (issue 16): overhead ≤ 5 %, ≤ 200 events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/runtime/test_llm_stream_bench.py"


def main() -> None:
    env = {**os.environ}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchyard")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    figures = [line for line in done.stdout.splitlines() if "BENCH " in line]
    print("llm stream: 2,000 tokens, 2 ms apart, worker -> websocket")
    for line in figures:
        print("  " + line.split("BENCH ", 1)[1])
    if done.returncode or not figures:
        print(done.stdout[-3000:] + done.stderr[-2000:])
        raise SystemExit(1)


if __name__ == "__main__":
    main()
