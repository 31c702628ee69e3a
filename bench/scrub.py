"""Scrubber benchmark (issue 19) in headless Chromium: a finished run of 100,000 stored events
(a map over thousands of items, a body of two nodes with log lines and retries) is opened,
indexed and scrubbed: dragged end to end, stepped with the keyboard, jumped to random
moments, and played at 100x. Every main-thread task over 50 ms is recorded (PerformanceObserver
"longtask"); the target is none.

Standalone: `.venv/bin/python -m bench.scrub` (or `python -m bench scrub`; needs the built
canvas in static/ and /usr/bin/chromium). It serves a scratch SQLite database in a temporary
directory with `manage.py serve --no-worker`, so no configured database is touched.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.canvas import (
    CHROMIUM,
    LONG_TASKS,
    ROOT,
    bundle_sizes,
    django_script,
    manage,
    start_server,
)

EVENTS = 100_000
TASK_TARGET_MS = 50.0
PASSWORD = "bench-scrub-pw"
JUMPS = 30
INSPECTED = os.environ.get("SCRUB_INSPECT", "done")

DOCUMENT = {
    "version": 1,
    "name": "scrub bench",
    "nodes": [
        {"id": "start", "type": "start", "position": {"x": 0, "y": 160}},
        {
            "id": "each",
            "type": "map",
            "config": {"items": "{{ inputs.items }}"},
            "position": {"x": 220, "y": 60},
            "size": {"width": 560, "height": 260},
        },
        {
            "id": "fetch",
            "type": "transform",
            "parent": "each",
            "config": {"output": "{{ input }}"},
            "position": {"x": 260, "y": 160},
        },
        {
            "id": "shape",
            "type": "transform",
            "parent": "each",
            "config": {"output": "{{ input }}"},
            "position": {"x": 520, "y": 160},
        },
        {"id": "done", "type": "output", "config": {"value": 1}, "position": {"x": 880, "y": 160}},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "each"},
        {"id": "e2", "source": "fetch", "target": "shape"},
        {"id": "e3", "source": "each", "target": "done"},
    ],
}

# Long animation frames (Chromium): how much of each long frame was our scripts, and how much
# style and layout, to tell the page's own work from a busy machine's.
LOAF = """
window.__loaf = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const scripts = e.scripts.reduce((sum, s) => sum + s.duration, 0);
    window.__loaf.push([e.startTime, e.duration, scripts]);
  }
}).observe({ type: "long-animation-frame", buffered: true });
"""

# A finished run: start, then per item (iteration `each[i]`) fetch runs, logs, sometimes
# retries, succeeds with an output; shape runs and succeeds with an output; the map's progress
# moves; then done. Times advance 2 ms per event.
CREATE_RUN = """
import json, sys, datetime
from django.contrib.auth import get_user_model
from workflows import services
from workflows.models import RunEvent, WorkflowRun
doc, count = json.loads(sys.stdin.read())
user = get_user_model().objects.create_user("bench", password=sys.argv[-1])
workflow = services.workflow_create(owner=user, source=doc)
run = WorkflowRun.objects.create(
    workflow=workflow, document=workflow.document, revision=workflow.revision,
    status="succeeded", created_by=user,
)
t0 = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=datetime.UTC)
rows = []
def add(type_, **payload):
    seq = len(rows) + 1
    rows.append(RunEvent(run=run, seq=seq, type=type_, payload=payload,
                         at=t0 + datetime.timedelta(milliseconds=2 * seq)))
add("run.status", status="running")
for node in ("start",):
    add("node.status", node=node, status="running", attempt=1)
    add("node.status", node=node, status="succeeded", attempt=1, duration_ms=1)
add("node.status", node="each", status="running", attempt=1)
per_item = 11
items = (count - len(rows) - 6) // per_item
for i in range(items):
    it = f"each[{i}]"
    add("node.status", node="fetch", iteration=it, status="running", attempt=1)
    add("node.log", node="fetch", iteration=it, message=f"GET /items/{i} -> 200 in 3 ms")
    if i % 10 == 0:
        add("node.status", node="fetch", iteration=it, status="retrying", attempt=1,
            error={"message": "timed out", "type": "timeout"})
        add("node.status", node="fetch", iteration=it, status="running", attempt=2)
    else:
        add("node.log", node="fetch", iteration=it, message="cache miss")
        add("node.log", node="fetch", iteration=it, message="parsed 1 record")
    add("node.status", node="fetch", iteration=it, status="succeeded", attempt=1, duration_ms=3)
    add("node.output", node="fetch", iteration=it, output={"id": i, "name": f"item {i}"})
    add("node.status", node="shape", iteration=it, status="running", attempt=1)
    add("node.status", node="shape", iteration=it, status="succeeded", attempt=1, duration_ms=1)
    add("node.output", node="shape", iteration=it, output={"id": i})
    add("node.progress", node="each", done=i + 1, total=items)
add("node.status", node="each", status="succeeded", attempt=1, duration_ms=2 * len(rows))
add("node.output", node="each", output={"count": items})
add("node.status", node="done", status="running", attempt=1)
add("node.status", node="done", status="succeeded", attempt=1, duration_ms=1)
while len(rows) < count - 1:
    add("node.log", node="done", message="flushed")
add("run.status", status="succeeded")
RunEvent.objects.bulk_create(rows, batch_size=5000)
print(json.dumps([workflow.pk, run.pk, len(rows), items]))
"""


def login(page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "bench")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(f"{url}/")


def longest_since(page, since: float) -> tuple[float, int, float]:
    """The longest task since `since`, how many were over 50 ms, and the most script time in
    one long animation frame (the rest of a long frame is style, layout and paint)."""
    tasks = page.evaluate("window.__longTasks")
    over = [d for start, d in tasks if start >= since]
    frames = page.evaluate("window.__loaf")
    scripts = [s for start, _d, s in frames if start >= since]
    return max(over or [0.0]), len(over), max(scripts or [0.0])


def now(page) -> float:
    return page.evaluate("performance.now()")


def seq(page) -> int:
    return int(page.locator("[data-testid=scrubber]").get_attribute("data-seq"))


def wait_seq(page, value: int) -> None:
    page.wait_for_function(
        "v => document.querySelector('[data-testid=scrubber]').dataset.seq === String(v)",
        arg=value,
        timeout=30_000,
    )


def measure(page, url: str, workflow_id: int, run_id: int, last: int) -> dict:
    results: dict = {}
    started = time.monotonic()
    page.goto(f"{url}/workflows/{workflow_id}/runs/{run_id}/")
    page.wait_for_selector("[data-testid=scrubber]", timeout=120_000)
    results["open_s"] = time.monotonic() - started
    node = page.locator(f"[data-node-id='{INSPECTED}'] .wf-node-name")
    node.click()  # the inspector follows the moment too
    page.locator("[data-testid=inspect-panel]").wait_for()

    slider = page.locator("[data-testid=scrub-slider]")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2

    # indexing starts at the first touch (Home: the run's start); it runs in the background
    t = now(page)
    slider.focus()
    page.keyboard.press("Home")
    wait_seq(page, 0)
    page.wait_for_function(
        "last => document.querySelector('[data-testid=scrubber]').dataset.indexed === String(last)",
        arg=last,
        timeout=300_000,
    )
    page.wait_for_timeout(300)
    results["index_s"] = (now(page) - t) / 1000
    results["index_task"] = longest_since(page, t)

    # drag the slider from one end to the other and back, in 200 mouse moves
    t = now(page)
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    for i in range(101):
        page.mouse.move(box["x"] + 2 + (box["width"] - 4) * i / 100, y)
    for i in range(100, -1, -1):
        page.mouse.move(box["x"] + 2 + (box["width"] - 4) * i / 100, y)
    page.mouse.up()
    page.wait_for_timeout(300)
    results["drag_s"] = (now(page) - t) / 1000
    results["drag_task"] = longest_since(page, t)

    # jumps to random moments (each a fresh window for most), timed to drawn
    print(f"  {results}", file=sys.stderr, flush=True)
    rng = random.Random(19)
    latencies = []
    t = now(page)
    for _ in range(JUMPS):
        target = rng.randrange(0, last)
        print(f"  jump to {target}", file=sys.stderr, flush=True)
        click = now(page)
        slider.fill(str(target))
        wait_seq(page, target)
        latencies.append(now(page) - click)
    results["jump_ms"] = latencies
    results["jump_task"] = longest_since(page, t)

    # the keyboard: 100 steps to the next event
    slider.focus()
    start_seq = seq(page)
    t = now(page)
    for _ in range(100):
        page.keyboard.press("ArrowRight")
    wait_seq(page, min(last, start_seq + 100))
    results["keys_s"] = (now(page) - t) / 1000
    results["keys_task"] = longest_since(page, t)

    # play at 100x for 1 s from a quarter of the way (the run lasts 200 s: 1 s is 100 s of it)
    slider.fill(str(last // 4))
    wait_seq(page, last // 4)
    page.select_option("[data-testid=scrub-speed]", "100")
    from_seq = seq(page)
    t = now(page)
    page.click("[data-testid=scrub-play]")
    page.wait_for_timeout(1000)
    page.click("[data-testid=scrub-play]")
    played = (now(page) - t) / 1000
    results["play_events"] = seq(page) - from_seq
    results["play_run_s"] = (seq(page) - from_seq) * 0.002 / played  # run seconds per second
    results["play_task"] = longest_since(page, t)
    results["heap_mb"] = page.evaluate("(performance.memory?.usedJSHeapSize ?? 0) / 1048576")
    return results


def run_browser(url: str, workflow_id: int, run_id: int, last: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--enable-precise-memory-info"],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.add_init_script(LONG_TASKS)
        page.add_init_script(LOAF)
        login(page, url)
        results = measure(page, url, workflow_id, run_id, last)
        browser.close()
    return results


def verdict(task: tuple[float, int, float]) -> str:
    longest, count, script = task
    ok = "ok" if longest <= TASK_TARGET_MS else "OVER"
    return f"{longest:>9.0f} ms  {count} over 50 ms  {ok} (scripts <= {script:.0f} ms)"


def print_table(r: dict, events: int, items: int) -> None:
    jumps = r["jump_ms"]
    load = os.getloadavg()[0]
    print(f"machine load average {load:.1f} on {os.cpu_count()} CPUs (tasks stretch above that)")
    print(f"run: {events} stored events (a map over {items} items, 2 body nodes, logs, retries)")
    print(f"{'measure':<46}{'value':>12}")
    print(f"{'open the finished run (live view loads it)':<46}{r['open_s']:>9.1f} s")
    print(f"{'index all events (background, windows of 1000)':<46}{r['index_s']:>9.1f} s")
    print(f"{'  longest main-thread task while indexing':<46}{verdict(r['index_task'])}")
    print(f"{'drag end to end and back (202 moves)':<46}{r['drag_s']:>9.1f} s")
    print(f"{'  longest main-thread task while dragging':<46}{verdict(r['drag_task'])}")
    print(
        f"{f'{len(jumps)} random jumps, click -> drawn, median':<46}"
        f"{statistics.median(jumps):>9.0f} ms  (max {max(jumps):.0f} ms)"
    )
    print(f"{'  longest main-thread task while jumping':<46}{verdict(r['jump_task'])}")
    print(f"{'100 keyboard steps (next event)':<46}{r['keys_s']:>9.1f} s")
    print(f"{'  longest main-thread task while stepping':<46}{verdict(r['keys_task'])}")
    print(
        f"{'play at 100x for 1 s: events moved':<46}{r['play_events']:>9d}"
        f"  ({r['play_run_s']:.0f} s of the run per second)"
    )
    print(f"{'  longest main-thread task while playing':<46}{verdict(r['play_task'])}")
    print(f"{'JS heap after all of it':<46}{r['heap_mb']:>9.0f} MB")
    sizes = bundle_sizes()
    print(f"{'bundle (js + css), gzip':<46}{sizes['gzip'] / 1024:>9.1f} KB")


def main() -> None:
    if not (ROOT / "static" / "index.html").exists():
        print("bench.scrub: the canvas is not built (make setup builds it); skipped")
        return
    if not Path(CHROMIUM).exists():
        print("bench.scrub: /usr/bin/chromium is missing (make chromium); skipped")
        return
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3",
            "REDIS_URL": "",
        }
        manage(env, "migrate", "--noinput")
        workflow_id, run_id, events, items = json.loads(
            django_script(env, CREATE_RUN, [DOCUMENT, EVENTS], PASSWORD)
        )
        server, url = start_server(env)
        try:
            results = run_browser(url, workflow_id, run_id, events)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print_table(results, events, items)


if __name__ == "__main__":
    main()
