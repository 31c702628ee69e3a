import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.observability.conftest import DIAMOND
from workflows.models import NodeRun, RunEvent, WorkflowRun

pytestmark = pytest.mark.django_db


def run_command(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_timeline_command_prints_gantt_efficiency_and_critical_path(diamond_run):
    out = run_command("timeline", str(diamond_run.pk))

    lines = out.splitlines()
    assert lines[1].startswith("Total: 6.5s | Parallel efficiency: 58%")
    assert any("██" in line and "b (3.0s)" in line for line in lines)
    assert lines[-1] == "Critical path: a → b → d → gate (6.5s)"


def test_timeline_bars_start_where_the_node_started(diamond_run):
    lines = run_command("timeline", str(diamond_run.pk), "--width", "13").splitlines()
    by_node = {line.rsplit(" (", 1)[0].split()[-1].lstrip("*"): line for line in lines[2:-1]}

    # 13 columns for 6.5 s: 2 columns per second.
    assert by_node["a"].startswith("00:00 ████ ")
    assert by_node["c"].startswith("00:02     ██ ")


def test_timeline_command_names_a_missing_run():
    with pytest.raises(CommandError, match="no run 999999"):
        run_command("timeline", "999999")


def test_inspect_run_lists_every_node_with_status_and_reason(diamond_run):
    out = run_command("inspect", str(diamond_run.pk))

    assert f"Run {diamond_run.pk} of diamond" in out
    assert "succeeded" in out
    never = next(line for line in out.splitlines() if line.strip().startswith("never"))
    assert "skipped" in never and "branch gate.false not taken" in never


def test_inspect_node_shows_input_from_upstream_output_and_attempts(diamond_run):
    out = run_command("inspect", str(diamond_run.pk), "b")

    assert f"Node b (transform) in run {diamond_run.pk}: succeeded" in out
    assert 'Input: {"n": 1}' in out
    assert "Attempt 1: succeeded" in out and "(3.0s)" in out
    assert "output: 2" in out


def test_inspect_node_json_merges_several_sources_and_shows_errors(diamond_run):
    NodeRun.objects.filter(run=diamond_run, node_id="c").update(
        status="failed", error={"message": "boom", "type": "exception"}, handled=False
    )

    body = json.loads(run_command("inspect", str(diamond_run.pk), "c", "--json"))
    d_body = json.loads(run_command("inspect", str(diamond_run.pk), "d", "--json"))

    assert body["attempts"][0]["error"] == {"message": "boom", "type": "exception"}
    assert d_body["input"] == 2  # only b's edge into d was taken


def test_inspect_unknown_node_is_a_clear_error(diamond_run):
    with pytest.raises(CommandError, match="has no node 'nope'"):
        run_command("inspect", str(diamond_run.pk), "nope")


def test_visualise_mermaid_colours_nodes_by_run_state(diamond_run):
    out = run_command(
        "visualise",
        str(diamond_run.workflow_id),
        "--format",
        "mermaid",
        "--run",
        str(diamond_run.pk),
    )

    assert out.startswith("flowchart LR")
    assert "gate -->|false| never" in out
    assert "classDef succeeded fill:#22c55e" in out
    assert "classDef skipped fill:#cbd5e1" in out and "stroke-dasharray" in out
    assert "class never skipped" in out


def test_visualise_dot_from_a_file_without_a_run(tmp_path):
    path = tmp_path / "diamond.json"
    path.write_text(json.dumps(DIAMOND))

    out = run_command("visualise", str(path), "--format", "dot")

    assert out.startswith('digraph "diamond" {')
    assert '"gate" -> "never" [label="false"];' in out
    assert 'fillcolor="#22c55e"' not in out


def test_visualise_dot_with_run_fills_state_colours(diamond_run):
    out = run_command(
        "visualise", str(diamond_run.workflow_id), "--format", "dot", "--run", str(diamond_run.pk)
    )

    assert '"never" [label="never (transform)", fillcolor="#cbd5e1"' in out
    assert 'fillcolor="#22c55e"' in out


def test_visualise_refuses_a_missing_file():
    with pytest.raises(CommandError, match=r"no such workflow file or id: nope\.json"):
        run_command("visualise", "nope.json")


def test_prune_runs_deletes_old_finished_runs_with_their_rows_in_batches(diamond_run, user):
    from tests.observability.conftest import build_diamond_run

    old = [build_diamond_run(user) for _ in range(3)]
    running = build_diamond_run(user)
    running.status = "running"
    running.save()
    long_ago = timezone.now() - timedelta(days=40)
    WorkflowRun.objects.filter(pk__in=[r.pk for r in [*old, running]]).update(created_at=long_ago)
    rerun = WorkflowRun.objects.create(
        workflow=diamond_run.workflow, document={}, revision=1, source_run=old[0]
    )

    out = run_command("prune_runs", "--days", "30", "--batch-size", "2")

    assert "deleted 3 run(s), 18 node run(s) and 6 event(s)" in out
    remaining = set(WorkflowRun.objects.values_list("pk", flat=True))
    assert remaining == {diamond_run.pk, running.pk, rerun.pk}
    assert not NodeRun.objects.filter(run_id__in=[r.pk for r in old]).exists()
    assert not RunEvent.objects.filter(run_id__in=[r.pk for r in old]).exists()
    rerun.refresh_from_db()
    assert rerun.source_run_id is None


def test_prune_runs_uses_the_retention_setting(settings, diamond_run):
    settings.SWITCHYARD_RUN_RETENTION_DAYS = 5
    WorkflowRun.objects.filter(pk=diamond_run.pk).update(
        created_at=timezone.now() - timedelta(days=6)
    )

    assert "would delete 1 run(s) older than 5 day(s)" in run_command("prune_runs", "--dry-run")
    run_command("prune_runs")

    assert not WorkflowRun.objects.filter(pk=diamond_run.pk).exists()


def test_prune_runs_deletes_subworkflow_runs_with_their_parent(diamond_run, user):
    child = WorkflowRun.objects.create(
        workflow=diamond_run.workflow,
        document={},
        revision=1,
        parent_run=diamond_run,
        status="succeeded",
    )
    WorkflowRun.objects.filter(pk__in=[diamond_run.pk, child.pk]).update(
        created_at=timezone.now() - timedelta(days=60)
    )

    run_command("prune_runs", "--days", "30")

    assert not WorkflowRun.objects.filter(pk__in=[diamond_run.pk, child.pk]).exists()


# The example of issue 8: db_schema, then personal_data and processing_purposes side by side,
# retention_rules after personal_data, gdpr_article30 after both of the first two.
GDPR_SPANS = {
    "db_schema": (0.4, 12.7, []),
    "personal_data": (12.9, 21.0, ["db_schema"]),
    "processing_purposes": (13.1, 30.8, ["db_schema"]),
    "retention_rules": (21.2, 41.7, ["personal_data"]),
    "gdpr_article30": (32.2, 44.1, ["processing_purposes", "personal_data"]),
}


@pytest.fixture
def gdpr_run(user) -> WorkflowRun:
    """busy = 12.3 + 8.1 + 17.7 + 20.5 + 11.9 = 70.5 s over a 45.2 s wall, two at most at once:
    efficiency 70.5 / (45.2 * 2) = 78 %. Longest chain: 12.3 + 17.7 + 11.9 = 41.9 s (through
    personal_data it is 12.3 + 8.1 + 11.9; through retention_rules 12.3 + 8.1 + 20.5 = 40.9)."""
    from tests.factories import workflow_for
    from tests.observability.conftest import at

    nodes = [{"id": n, "type": "transform", "config": {"output": n}} for n in GDPR_SPANS]
    edges = [
        {"id": f"{source}-{node}", "source": source, "target": node}
        for node, (_, _, sources) in GDPR_SPANS.items()
        for source in sources
    ]
    document = {"version": 1, "name": "gdpr", "nodes": nodes, "edges": edges}
    run = WorkflowRun.objects.create(
        workflow=workflow_for(user, document),
        document=document,
        revision=1,
        status="succeeded",
        started_at=at(0),
        finished_at=at(45.2),
    )
    for node, (start, end, _) in GDPR_SPANS.items():
        NodeRun.objects.create(
            run=run,
            node_id=node,
            status="succeeded",
            started_at=at(start),
            finished_at=at(end),
            handles=["out"],
        )
    return run


def test_timeline_of_the_issue_example_prints_total_efficiency_bars_and_critical_path(gdpr_run):
    lines = run_command("timeline", str(gdpr_run.pk)).splitlines()

    assert lines[0] == f"Run {gdpr_run.pk} (succeeded)"
    assert lines[1] == "Total: 45.2s | Parallel efficiency: 78% | Max parallel: 2"
    bars = lines[2:-1]
    assert re.fullmatch(r"00:00 █+ +\*db_schema \(12\.3s\)", bars[0])
    assert re.fullmatch(r"00:12 +█+ +personal_data \(8\.1s\)", bars[1])
    assert re.fullmatch(r"00:13 +█+ +\*processing_purposes \(17\.7s\)", bars[2])
    assert re.fullmatch(r"00:32 +█+ +\*gdpr_article30 \(11\.9s\)", bars[4])
    assert lines[-1] == "Critical path: db_schema → processing_purposes → gdpr_article30 (41.9s)"


def test_timeline_bars_are_as_long_as_the_spans(gdpr_run):
    lines = run_command("timeline", str(gdpr_run.pk), "--width", "452").splitlines()

    # 452 columns for 45.2 s: ten per second.
    widths = {line.split()[-2].lstrip("*"): line.count("█") for line in lines[2:-1]}
    assert widths == {
        "db_schema": 123,
        "personal_data": 81,
        "processing_purposes": 177,
        "retention_rules": 205,
        "gdpr_article30": 119,
    }


def test_timeline_json_and_api_of_the_issue_example_agree(gdpr_run, api):
    data = json.loads(run_command("timeline", str(gdpr_run.pk), "--json"))
    body = api.get(f"/api/runs/{gdpr_run.pk}/timeline/").json()

    assert data == body
    assert body["wall_ms"] == 45200 and body["busy_ms"] == 70500
    assert body["max_parallel_used"] == 2
    assert body["efficiency"] == pytest.approx(70.5 / 90.4, abs=1e-4)
    assert body["critical_path"] == ["db_schema", "processing_purposes", "gdpr_article30"]
    assert body["critical_path_ms"] == 41900


def import_file(tmp_path, *args) -> str:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps({"name": "imported", "nodes": [{"id": "a", "type": "start"}]}))
    return run_command("import_workflow", str(path), *args, stderr=StringIO())


def test_import_workflow_without_owner_belongs_to_the_cli_user_on_a_fresh_install(tmp_path):
    from django.contrib.auth import get_user_model

    from workflows.models import Workflow
    from workflows.runtime.cli import CLI_USERNAME

    assert not get_user_model().objects.exists()  # no `demo` user either
    first = Workflow.objects.get(pk=int(import_file(tmp_path)))
    second = Workflow.objects.get(pk=int(import_file(tmp_path)))
    assert first.owner.username == second.owner.username == CLI_USERNAME
    assert get_user_model().objects.count() == 1  # created once, then reused


def test_import_workflow_with_an_unknown_owner_is_a_clear_error_and_creates_nobody(tmp_path):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError, match="no user named 'zed'"):
        import_file(tmp_path, "--owner", "zed")
    assert not get_user_model().objects.exists()


def test_import_workflow_with_an_owner_stores_it_for_that_user(tmp_path, user):
    from workflows.models import Workflow

    assert Workflow.objects.get(pk=int(import_file(tmp_path, "--owner", "alice"))).owner == user
