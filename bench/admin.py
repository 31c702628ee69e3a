"""Admin benchmark: the run-history list with 100,000 runs (issue 8: "stays fast").

`DATABASE_URL=postgres://... .venv/bin/python -m bench admin` (or `python -m bench.admin`).
It works in a scratch database (`switchyard_bench_admin` next to the one DATABASE_URL names:
dropped, created and migrated here, dropped at the end), bulk-creates RUNS runs of 20
workflows with NODES node runs each in SQL, then times the admin's run pages through Django's
test client, logged in as a superuser, and prints the EXPLAIN ANALYZE of each page's main
queries (the page of runs and its count).
"""

from __future__ import annotations

import json
import os
import statistics
import time

from bench.scratch import scratch_database

BENCH_DB = "switchyard_bench_admin"
RUNS = 100_000
WORKFLOWS = 20
ROUNDS = 5
TARGET_MS = 300.0
# Every run has these top-level nodes; how each ends depends on how the run ended.
NODES = ("load", "fetch", "parse", "check", "notify", "archive")
DOCUMENT = {
    "version": 1,
    "name": "bench",
    "nodes": [
        {"id": "load", "type": "transform", "config": {"output": 1}},
        {"id": "fetch", "type": "transform", "config": {"output": 2}},
        {"id": "parse", "type": "transform", "config": {"output": 3}},
        {"id": "check", "type": "condition", "config": {"expression": "True"}},
        {"id": "notify", "type": "transform", "config": {"output": 4}},
        {"id": "archive", "type": "transform", "config": {"output": 5}},
    ],
    "edges": [
        {"id": "e1", "source": "load", "target": "fetch"},
        {"id": "e2", "source": "fetch", "target": "parse"},
        {"id": "e3", "source": "parse", "target": "check"},
        {"id": "e4", "source": "check", "source_handle": "false", "target": "notify"},
        {"id": "e5", "source": "check", "source_handle": "true", "target": "archive"},
    ],
}

# Run g (1..RUNS) was created g * 5 minutes before now: the runs span about a year.
# One in 25 failed (one failure in 40 of those on a rare error), one in 101 was cancelled,
# the newest 20 are still running.
RUNS_SQL = """
INSERT INTO workflows_workflowrun (
    workflow_id, document, revision, status, mode, trigger, inputs, outputs, error,
    created_by_id, created_at, started_at, finished_at{more_columns})
SELECT
    (%(workflows)s::bigint[])[1 + g %% %(n_workflows)s], %(document)s::jsonb, 1,
    s.status,
    CASE WHEN g %% 13 = 0 THEN 'dry_run' ELSE 'normal' END,
    (ARRAY['api', 'ui', 'schedule', 'cli', 'rerun'])[1 + g %% 5],
    '{}'::jsonb, '{}'::jsonb,
    CASE WHEN s.status <> 'failed' THEN NULL
         WHEN g %% 1000 = 0 THEN jsonb_build_object(
             'message', 'node fetch failed: certificate verify failed for ledger-' || g,
             'type', 'http')
         ELSE jsonb_build_object(
             'message', 'node fetch failed: HTTP 503 from https://api.example.com/orders/' || g,
             'type', 'http') END,
    %(user)s, t.created, t.created + interval '1 second',
    CASE WHEN s.status = 'running' THEN NULL ELSE t.created + interval '9 seconds' END
    {more_values}
FROM generate_series(1, %(runs)s) AS g,
LATERAL (SELECT now() - g * interval '5 minutes' AS created) AS t,
LATERAL (SELECT CASE WHEN g <= 20 THEN 'running'
                     WHEN g %% 25 = 0 THEN 'failed'
                     WHEN g %% 101 = 0 THEN 'cancelled'
                     ELSE 'succeeded' END AS status) AS s
"""

NODE_RUNS_SQL = """
INSERT INTO workflows_noderun (
    run_id, node_id, iteration, attempt, status, started_at, finished_at, output, error,
    duration_ms, handled, reason, handles{more_columns})
SELECT r.id, n.node_id, '', CASE WHEN o.status IN ('skipped', 'upstream_failed') THEN 0 ELSE 1 END,
    o.status,
    CASE WHEN o.status IN ('succeeded', 'failed') THEN r.started_at + n.pos * interval '1 second'
    END,
    CASE WHEN o.status IN ('succeeded', 'failed')
         THEN r.started_at + (n.pos + 1) * interval '1 second' END,
    CASE WHEN o.status = 'succeeded' THEN to_jsonb(n.pos) END,
    CASE WHEN o.status = 'failed' THEN r.error END,
    CASE WHEN o.status IN ('succeeded', 'failed') THEN 1000 END,
    false, o.reason,
    CASE WHEN o.status <> 'succeeded' THEN '[]'::jsonb
         WHEN n.node_id = 'check' THEN '["true"]'::jsonb ELSE '["out"]'::jsonb END
    {more_values}
FROM workflows_workflowrun r
CROSS JOIN (VALUES ('load', 0), ('fetch', 1), ('parse', 2), ('check', 3), ('notify', 4),
                   ('archive', 5)) AS n(node_id, pos),
LATERAL (SELECT
    CASE WHEN r.status = 'failed' THEN
             CASE n.pos WHEN 0 THEN 'succeeded' WHEN 1 THEN 'failed' ELSE 'upstream_failed' END
         WHEN r.status = 'cancelled' THEN
             CASE WHEN n.pos < 2 THEN 'succeeded' ELSE 'cancelled' END
         WHEN r.status = 'running' THEN
             CASE WHEN n.pos < 2 THEN 'succeeded' WHEN n.pos = 2 THEN 'running' ELSE 'pending' END
         WHEN n.node_id = 'notify' THEN 'skipped'
         ELSE 'succeeded' END AS status,
    CASE WHEN r.status = 'failed' AND n.pos = 2 THEN 'upstream fetch failed'
         WHEN r.status = 'failed' AND n.pos > 2 THEN 'upstream parse upstream failed'
         WHEN r.status = 'cancelled' AND n.pos >= 2 THEN 'run cancelled'
         WHEN r.status = 'succeeded' AND n.node_id = 'notify' THEN 'branch check.false not taken'
         ELSE '' END AS reason) AS o
WHERE r.status <> 'running' OR n.pos <= 2
"""


def with_defaults(sql: str, model, params: dict) -> str:
    """`sql` with the model's other required columns set to their defaults, so the bench
    keeps working when a column is added (named in `params` as `default_<column>`)."""
    from django.db import connection

    listed = sql.split("(", 1)[1].split("{more_columns})", 1)[0]
    given = {name.strip() for name in listed.split(",")}
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.column in given:
            continue
        key = f"default_{field.column}"
        params[key] = field.get_db_prep_save(field.get_default(), connection)
        columns.append(field.column)
        values.append(f"%({key})s")
    more_columns = "".join(f", {column}" for column in columns)
    more_values = "".join(f", {value}" for value in values)
    return sql.replace("{more_columns}", more_columns).replace("{more_values}", more_values)


def fill() -> dict:
    """The superuser, the workflows, RUNS runs and their node runs; what the pages need."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from workflows import services
    from workflows.models import NodeRun, RunEvent, WorkflowRun

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pw")
    workflows = [
        services.workflow_create(owner=user, source={**DOCUMENT, "name": f"orders sync {i}"})
        for i in range(WORKFLOWS)
    ]
    started = time.perf_counter()
    params = {
        "workflows": [w.pk for w in workflows],
        "n_workflows": WORKFLOWS,
        "document": json.dumps(DOCUMENT),
        "user": user.pk,
        "runs": RUNS,
    }
    node_params: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(with_defaults(RUNS_SQL, WorkflowRun, params), params)
        cursor.execute(with_defaults(NODE_RUNS_SQL, NodeRun, node_params), node_params)
    with connection.cursor() as cursor:  # autovacuum would have caught up by now
        cursor.execute("VACUUM ANALYZE")
    failed = WorkflowRun.objects.filter(status="failed").order_by("-created_at").first()
    RunEvent.objects.bulk_create(
        RunEvent(run=failed, seq=seq, type="node.status", at=failed.created_at, payload={})
        for seq in range(1, 41)
    )
    print(
        f"{WorkflowRun.objects.count()} runs, {NodeRun.objects.count()} node runs "
        f"created in {time.perf_counter() - started:.1f} s"
    )
    middle = WorkflowRun.objects.order_by("created_at")[RUNS // 2]
    return {"user": user, "failed": failed, "month": middle.created_at}


def pages(data: dict) -> dict[str, str]:
    base = "/admin/workflows/workflowrun/"
    month = data["month"]
    return {
        "first page": base,
        "filtered by status": f"{base}?status__exact=failed",
        "searched by error text": f"{base}?q=certificate",
        "searched by workflow name": f"{base}?q=orders+sync+7",
        "date hierarchy (a month)": (
            f"{base}?created_at__year={month.year}&created_at__month={month.month}"
        ),
        "sorted by status": f"{base}?o=3",
        "date hierarchy (a year)": f"{base}?created_at__year={month.year}",
        "run detail page": f"{base}{data['failed'].pk}/change/",
    }


def measure(client, url: str) -> tuple[list[float], list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples, queries = [], []
    for round_ in range(ROUNDS + 1):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if round_:  # the first request warms caches
            samples.append(elapsed)
        queries = captured.captured_queries
    return samples, queries


def main_queries(queries: list[dict]) -> list[str]:
    """The statements worth explaining: those reading the runs table (not sessions, users)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and 'FROM "workflows_workflowrun"' in q["sql"]
        and "django_session" not in q["sql"]
    ]


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
        return [row[0] for row in cursor.fetchall()]


def report(client, data: dict) -> None:
    results = {}
    for name, url in pages(data).items():
        samples, queries = measure(client, url)
        results[name] = (samples, queries, url)
    print(f"admin run pages with {RUNS} runs, median of {ROUNDS} requests")
    print(f"{'page':<28}{'median ms':>11}{'max ms':>9}{'queries':>9}{'target ms':>11}  ok")
    for name, (samples, queries, _) in results.items():
        median = statistics.median(samples)
        verdict = "yes" if median <= TARGET_MS else "NO"
        print(
            f"{name:<28}{median:>11.1f}{max(samples):>9.1f}{len(queries):>9}"
            f"{TARGET_MS:>11.0f}  {verdict}"
        )
    for name, (_, queries, url) in results.items():
        print(f"\n-- {name}: {url}")
        for sql in main_queries(queries):
            print(f"   {sql[:160]}{' ...' if len(sql) > 160 else ''}")
            for line in explain(sql):
                print(f"     {line}")


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("bench.admin: set DATABASE_URL to a PostgreSQL database (the target is for it)")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
    import django

    django.setup()
    from django.test import Client

    with scratch_database(url, BENCH_DB):
        data = fill()
        client = Client()
        client.force_login(data["user"])
        report(client, data)


if __name__ == "__main__":
    main()
