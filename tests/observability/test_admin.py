import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.observability.conftest import at, build_diamond_run
from tests.observability.test_record_facts import executed
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = pytest.mark.django_db

EVERY_STATE = [
    "pending",
    "queued",
    "running",
    "retrying",
    "waiting",
    "succeeded",
    "failed",
    "skipped",
    "upstream_failed",
    "cancelled",
]


@pytest.fixture
def admin_client(django_user_model, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def every_state_run(user) -> WorkflowRun:
    """The diamond run plus one extra row per node state."""
    run = build_diamond_run(user)
    run.status = "failed"
    run.error = {"message": "node c failed: kaboom", "type": "exception"}
    run.save()
    for i, status in enumerate(EVERY_STATE):
        NodeRun.objects.create(
            run=run,
            node_id=f"x_{status}",
            iteration="each[0]" if status == "pending" else "",
            status=status,
            started_at=at(i),
            finished_at=at(i + 0.5),
            error={"message": "kaboom", "type": "exception"} if status == "failed" else None,
            reason="upstream c failed" if status == "upstream_failed" else "",
        )
    return run


def test_run_list_shows_badges_counts_and_durations(admin_client, every_state_run):
    response = admin_client.get("/admin/workflows/workflowrun/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="failed" style="background:#ef4444' in html
    assert "6.5 s" in html
    row = html.split(f'<a href="/admin/workflows/workflowrun/{every_state_run.pk}/change/')[1]
    cells = row.split("</tr>")[0]
    # 5 diamond nodes + x_succeeded succeeded; x_failed failed; never + x_skipped skipped.
    assert '<td class="field-succeeded">6</td>' in cells
    assert '<td class="field-failed">1</td>' in cells
    assert '<td class="field-skipped">2</td>' in cells


def test_run_list_filters_by_status_and_searches_error_text_and_id(admin_client, every_state_run):
    other = build_diamond_run(every_state_run.workflow.owner)

    by_status = admin_client.get("/admin/workflows/workflowrun/?status__exact=failed")
    by_error = admin_client.get("/admin/workflows/workflowrun/?q=kaboom")
    by_id = admin_client.get(f"/admin/workflows/workflowrun/?q={other.pk}")

    link = "/admin/workflows/workflowrun/{}/change/"
    assert link.format(every_state_run.pk) in by_status.content.decode()
    assert link.format(other.pk) not in by_status.content.decode()
    assert link.format(every_state_run.pk) in by_error.content.decode()
    assert link.format(other.pk) not in by_error.content.decode()
    assert link.format(other.pk) in by_id.content.decode()


def test_run_detail_shows_node_runs_reasons_events_dag_and_canvas_link(
    admin_client, every_state_run
):
    response = admin_client.get(f"/admin/workflows/workflowrun/{every_state_run.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    for status in EVERY_STATE:
        assert f'data-status="{status}"' in html
    assert "branch gate.false not taken" in html
    assert "upstream c failed" in html
    assert "exception: kaboom" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert '<g data-node-id="never" data-status="skipped">' in html
    expected = f"/workflows/{every_state_run.workflow_id}/runs/{every_state_run.pk}/"
    assert f'href="{expected}"' in html
    assert '<table class="run-events">' in html and "node.status" in html
    assert "critical path a → b → d → gate" in html


def test_run_page_of_a_dry_run_says_which_nodes_would_run(admin_client, diamond_run):
    WorkflowRun.objects.filter(pk=diamond_run.pk).update(mode="dry_run")
    NodeRun.objects.filter(run=diamond_run, node_id="c").update(output={"dry_run": True})

    response = admin_client.get(f"/admin/workflows/workflowrun/{diamond_run.pk}/change/")

    assert (
        '<p class="dry-run-plan">Dry run: would run a, b, c, d, gate; '
        "side effects not performed: c</p>"
    ) in response.content.decode()


def test_workflow_page_draws_the_dag(admin_client, diamond_run):
    response = admin_client.get(f"/admin/workflows/workflow/{diamond_run.workflow_id}/change/")

    assert response.status_code == 200
    assert '<g data-node-id="gate" data-status="">' in response.content.decode()


@pytest.fixture
def thousand_runs(diamond_run) -> list[WorkflowRun]:
    """1,000 more runs of the diamond's workflow, two node runs each, a tenth with events."""
    now = timezone.now()
    runs = WorkflowRun.objects.bulk_create(
        WorkflowRun(
            workflow=diamond_run.workflow,
            document={},
            revision=1,
            status="succeeded" if i % 3 else "failed",
            error=None if i % 3 else {"message": f"fetch timed out #{i}", "type": "timeout"},
            started_at=now,
            finished_at=now,
        )
        for i in range(1000)
    )
    NodeRun.objects.bulk_create(
        NodeRun(run=run, node_id=node, status="succeeded") for run in runs for node in ("a", "b")
    )
    RunEvent.objects.bulk_create(
        RunEvent(run=run, seq=1, type="run.status", at=now, payload={}) for run in runs[:100]
    )
    return runs


def test_run_list_stays_within_a_query_budget_with_1000_runs(
    admin_client, thousand_runs, django_assert_max_num_queries
):
    year = timezone.now().year
    pages = [
        "/admin/workflows/workflowrun/",
        "/admin/workflows/workflowrun/?status__exact=failed&q=diamond",
        "/admin/workflows/workflowrun/?q=timed+out",
        f"/admin/workflows/workflowrun/?created_at__year={year}",
        "/admin/workflows/workflowrun/?o=-3",
    ]
    for page in pages:
        # session, user, count, the page of runs (counts included), the workflow filter's
        # choices, the date hierarchy's bounds and probes, one workflow lookup per word
        with django_assert_max_num_queries(12):
            response = admin_client.get(page)
        assert response.status_code == 200, page

    first = admin_client.get(pages[0]).content.decode()
    assert first.count('<td class="field-succeeded">2</td>') == 50


def test_run_detail_with_every_node_state_stays_within_a_query_budget_with_1000_runs(
    admin_client, every_state_run, thousand_runs, django_assert_max_num_queries
):
    # constant: not one query per node run (+1 for root causes, +1 for body nodes' states)
    with django_assert_max_num_queries(14):
        response = admin_client.get(f"/admin/workflows/workflowrun/{every_state_run.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    for status in EVERY_STATE:
        assert f'data-status="{status}"' in html


def test_search_words_each_match_an_id_a_workflow_name_or_the_error(admin_client, user):
    timeout = build_diamond_run(user)
    WorkflowRun.objects.filter(pk=timeout.pk).update(
        status="failed", error={"message": "fetch timed out after 30s", "type": "timeout"}
    )
    plain = build_diamond_run(user)
    link = "/admin/workflows/workflowrun/{}/change/"

    def found(term: str) -> set[int]:
        html = admin_client.get("/admin/workflows/workflowrun/", {"q": term}).content.decode()
        return {run.pk for run in (timeout, plain) if link.format(run.pk) in html}

    assert found("TIMED") == {timeout.pk}
    assert found("diamond") == {timeout.pk, plain.pk}
    assert found("diamond timed") == {timeout.pk}  # every word must match
    assert found('"out after"') == {timeout.pk}  # a quoted phrase is one word
    assert found("diamond nope") == set()
    assert found(f"#{plain.pk}") == {plain.pk}


def test_date_hierarchy_offers_only_years_and_months_with_runs(admin_client, user):
    runs = [build_diamond_run(user) for _ in range(3)]
    for run, when in zip(runs, ["2024-03-05", "2026-02-10", "2026-11-22"], strict=True):
        WorkflowRun.objects.filter(pk=run.pk).update(created_at=f"{when}T10:00:00Z")

    years = admin_client.get("/admin/workflows/workflowrun/").content.decode()
    months = admin_client.get("/admin/workflows/workflowrun/?created_at__year=2026")
    days = admin_client.get(
        "/admin/workflows/workflowrun/?created_at__year=2026&created_at__month=2"
    )

    assert "?created_at__year=2024" in years and "?created_at__year=2026" in years
    assert "?created_at__year=2025" not in years  # no run that year
    html = months.content.decode()
    assert "created_at__month=2" in html and "created_at__month=11" in html
    assert "created_at__month=3" not in html
    html = days.content.decode()
    assert "created_at__day=10" in html and "created_at__day=11" not in html
    assert f"/admin/workflows/workflowrun/{runs[1].pk}/change/" in html


def test_error_search_can_use_the_trigram_index(admin_client, diamond_run):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the trigram index is PostgreSQL only")
    with CaptureQueriesContext(connection) as captured:
        admin_client.get("/admin/workflows/workflowrun/?q=kaboom")
    count = next(q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(*)"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "run_error_message_trgm" in plan
    assert "run_created_id" in index_names(connection)


def index_names(connection) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'workflows_workflowrun'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_cancel_action_cancels_a_queued_run(admin_client, diamond_run):
    queued = build_diamond_run(diamond_run.workflow.owner)
    WorkflowRun.objects.filter(pk=queued.pk).update(status="queued", finished_at=None, state=None)
    RunEvent.objects.filter(run=queued).delete()
    NodeRun.objects.filter(run=queued).delete()

    response = admin_client.post(
        "/admin/workflows/workflowrun/",
        {"action": "cancel_runs", "_selected_action": [queued.pk]},
        follow=True,
    )

    assert response.status_code == 200
    queued.refresh_from_db()
    assert queued.status == "cancelled"


def test_rerun_action_queues_a_new_run_linked_to_its_source(admin_client, diamond_run):
    response = admin_client.post(
        "/admin/workflows/workflowrun/",
        {"action": "rerun_runs", "_selected_action": [diamond_run.pk]},
        follow=True,
    )

    assert response.status_code == 200
    rerun = WorkflowRun.objects.get(source_run=diamond_run)
    assert rerun.trigger == "rerun" and rerun.status == "queued"


@pytest.mark.django_db(transaction=True)  # executed as a worker would: its own connections
def test_run_picture_draws_a_maps_body_inside_its_frame_in_its_state_and_labels_whole(
    admin_client, user
):
    document = {
        "version": 1,
        "name": "mapped",
        "nodes": [
            {"id": "gate", "type": "condition", "config": {"expression": "True"}},
            {"id": "m", "type": "map", "config": {"items": [1, 2, 3]}},
            {"id": "sq", "type": "transform", "parent": "m", "config": {"output": "{{ input }}"}},
            {"id": "dbl", "type": "transform", "parent": "m", "config": {"output": 2}},
            {"id": "after", "type": "transform", "config": {"output": 1}},
        ],
        "edges": [
            {"id": "e1", "source": "gate", "source_handle": "true", "target": "m"},
            {"id": "e2", "source": "sq", "target": "dbl"},
            {"id": "e3", "source": "m", "target": "after"},
        ],
    }
    run = executed(user, document)
    assert run.status == "succeeded"

    html = admin_client.get(f"/admin/workflows/workflowrun/{run.pk}/change/").content.decode()

    boxes = {
        node: tuple(
            int(v)
            for v in re.search(
                rf'<g data-node-id="{node}" data-status="succeeded"[^>]*><title>[^<]*</title>'
                r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"',
                html,
            ).groups()
        )
        for node in ("gate", "m", "sq", "dbl", "after")
    }  # every node, body nodes included, drawn in the state it ended in (not grey "pending")
    fx, fy, fw, fh = boxes["m"]
    for body in ("sq", "dbl"):
        x, y, w, h = boxes[body]
        assert fx < x and x + w < fx + fw and fy < y and y + h < fy + fh, (body, boxes)
    assert boxes["sq"][0] < boxes["dbl"][0]  # the body laid out by its own edges
    # the handle's label is whole and drawn after every node (no box covers it)
    assert html.rindex('fill="#475569">true</text>') > html.rindex("data-node-id=")


def test_workflow_page_names_an_edges_ends_by_node_id_not_database_id(admin_client, diamond_run):
    workflow = diamond_run.workflow
    edge = workflow.edges.select_related("source", "target").get(edge_id="e1")
    assert str(edge) == "e1: a -> b"
    html = admin_client.get(f"/admin/workflows/workflow/{workflow.pk}/change/").content.decode()
    assert "e1: a -&gt; b" in html or "e1: a -> b" in html
