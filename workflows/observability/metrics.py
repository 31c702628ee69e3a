"""`GET /metrics`: the Prometheus text format (SPEC §8 Control), read from PostgreSQL at each
scrape, so every web process answers the same whichever worker ran what.

Served to staff sessions, or to `Authorization: Bearer <SWITCHYARD_METRICS_TOKEN>` (a scraper;
no bearer access while the setting is empty). Anonymous: 401; a signed-in user who is not
staff: 403.

Metrics (all gauges or histograms computed from the rows, so they restart when runs are
pruned — Prometheus reads a histogram that goes down as a counter reset):

- `switchyard_runs{status, trigger}`: runs by status and trigger;
- `switchyard_queue_depth`: runs waiting for a worker (queued, or paused and due);
- `switchyard_runs_waiting`: runs parked `paused` (an approval, a pause on demand …);
- `switchyard_leases_held`: runs a live lease holds (being executed now);
- `switchyard_workers`: workers holding at least one run (distinct live lease owners; an idle
  worker holds no row, so it is not counted);
- `switchyard_node_duration_seconds{type}`: a histogram of finished node attempts' durations
  by node type (a node's type is read from its workflow; a node since deleted, or added by
  dynamic growth, is `unknown`).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from engine.states import RunState
from workflows import conf
from workflows.models import NodeRun, WorkflowNode, WorkflowRun

# Seconds: from a no-op's milliseconds to an hour-long call.
BUCKETS = (0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0)


def run_metrics() -> Iterator[Metric]:
    now = timezone.now()
    runs = GaugeMetricFamily(
        "switchyard_runs", "Runs by status and trigger", labels=["status", "trigger"]
    )
    counts = WorkflowRun.objects.values_list("status", "trigger").annotate(n=Count("id"))
    for status, trigger, n in counts.order_by("status", "trigger"):
        runs.add_metric([status, trigger], n)
    yield runs
    live = Q(lease_expires_at__gt=now) & ~Q(lease_owner="")
    totals = WorkflowRun.objects.aggregate(
        queued=Count("id", filter=Q(status=RunState.QUEUED) | Q(status="paused", wake_at__lte=now)),
        waiting=Count("id", filter=Q(status=RunState.PAUSED)),
        leases=Count("id", filter=live),
        workers=Count(
            "lease_owner", filter=live & ~Q(lease_owner__startswith="control:"), distinct=True
        ),
    )
    for name, key, about in (
        ("switchyard_queue_depth", "queued", "Runs waiting for a worker (queued, or due)"),
        ("switchyard_runs_waiting", "waiting", "Runs parked paused"),
        ("switchyard_leases_held", "leases", "Runs a live lease holds"),
        ("switchyard_workers", "workers", "Workers holding at least one run"),
    ):
        yield GaugeMetricFamily(name, about, value=totals[key])


def node_duration_metric() -> Metric:
    node_type = WorkflowNode.objects.filter(
        workflow_id=OuterRef("run__workflow_id"), node_id=OuterRef("node_id")
    ).values("type")[:1]
    buckets = {
        f"le_{index}": Count("id", filter=Q(duration_ms__lte=bound * 1000))
        for index, bound in enumerate(BUCKETS)
    }
    rows = (
        NodeRun.objects.filter(duration_ms__isnull=False)
        .annotate(node_type=Coalesce(Subquery(node_type), Value("unknown")))
        .values("node_type")
        .annotate(count=Count("id"), total=Sum(F("duration_ms")), **buckets)
        .order_by("node_type")
    )
    histogram = HistogramMetricFamily(
        "switchyard_node_duration_seconds",
        "Durations of finished node attempts by node type",
        labels=["type"],
        unit="",
    )
    for row in rows:
        cumulative = [(repr(bound), row[f"le_{i}"]) for i, bound in enumerate(BUCKETS)]
        cumulative.append(("+Inf", row["count"]))
        histogram.add_metric([row["node_type"]], cumulative, (row["total"] or 0) / 1000)
    return histogram


class DatabaseCollector:
    """A prometheus_client collector reading the rows at each scrape."""

    def collect(self) -> Iterator[Metric]:
        yield from run_metrics()
        yield node_duration_metric()


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def bearer_ok(request: HttpRequest) -> bool:
    token = conf.value("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not token or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), str(token).encode())


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not bearer_ok(request):
        user = request.user
        if not user.is_authenticated:
            response = HttpResponse(
                "sign in as staff or send the metrics bearer token\n", status=401
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            response["Content-Type"] = "text/plain; charset=utf-8"
            return response
        if not user.is_staff:
            return HttpResponse(
                "metrics are for staff\n", status=403, content_type="text/plain; charset=utf-8"
            )
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


# --- per-node statistics of one workflow (GET /api/workflows/{id}/stats/) -------------------

MAX_STAT_ATTEMPTS = 20_000  # the newest finished attempts read (bounded work per request)


def percentile(ordered: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of sorted values (None when there are none)."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil, at least the first
    return ordered[int(rank) - 1]


def node_statistics(workflow_id: int) -> dict:
    """Each node's finished attempts across the workflow's runs (body nodes per iteration
    too): `count`, `failures`, `failure_rate`, `p50_ms`, `p95_ms`; and the `slowest` node (the
    highest median). Reads the newest `MAX_STAT_ATTEMPTS` finished attempts."""
    rows = (
        NodeRun.objects.filter(
            run__workflow_id=workflow_id,
            status__in=("succeeded", "failed"),
            duration_ms__isnull=False,
        )
        .order_by("-run_id", "-id")
        .values_list("node_id", "status", "duration_ms", "run_id")[:MAX_STAT_ATTEMPTS]
    )
    durations: dict[str, list[int]] = {}
    failures: dict[str, int] = {}
    runs = set()
    for node_id, status, duration, run_id in rows:
        durations.setdefault(node_id, []).append(duration)
        failures[node_id] = failures.get(node_id, 0) + (status == "failed")
        runs.add(run_id)
    nodes = {}
    for node_id in sorted(durations):
        ordered = sorted(durations[node_id])
        count = len(ordered)
        nodes[node_id] = {
            "count": count,
            "failures": failures[node_id],
            "failure_rate": round(failures[node_id] / count, 4),
            "p50_ms": percentile(ordered, 0.5),
            "p95_ms": percentile(ordered, 0.95),
        }
    slowest = max(nodes, key=lambda n: (nodes[n]["p50_ms"], n), default=None)
    return {"workflow": workflow_id, "runs": len(runs), "nodes": nodes, "slowest": slowest}
