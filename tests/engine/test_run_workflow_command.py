"""`manage.py run_workflow FILE` in file mode: exit codes, --input parsing, --json report."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from workflows.management.commands.run_workflow import parse_input

# The command records its run in the database like any other run.
pytestmark = [pytest.mark.timeout(60), pytest.mark.django_db(transaction=True)]


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("run_workflow", *args, stdout=out, stderr=err)
    return exited.value.code, out.getvalue(), err.getvalue()


@pytest.fixture
def sum_workflow(tmp_path):
    path = tmp_path / "sum.yaml"
    path.write_text(
        "inputs: {xs: {type: array}, label: {default: total}}\n"
        "nodes:\n"
        "  - id: a\n"
        "    type: transform\n"
        "    config: {output: '{{ inputs.label }}={{ sum(inputs.xs) }}'}\n"
        "  - {id: out, type: output, config: {value: '{{ a }}'}}\n"
        "edges: [{source: a, target: out}]\n"
    )
    return path


def test_json_report_and_exit_zero_on_success(sum_workflow):
    code, out, err = run_command(str(sum_workflow), "--input", "xs=[1,2,3]", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["status"] == "succeeded"
    assert report["outputs"] == {"out": "total=6"}
    assert "2/2 nodes" in err  # the progress line goes to stderr


def test_exit_one_when_the_run_fails(tmp_path):
    path = tmp_path / "fails.yaml"
    path.write_text(
        "nodes:\n"
        "  - {id: a, type: transform, config: {output: '{{ inputs.xs[9] }}'}}\n"
        "inputs: {xs: {type: array, default: [1]}}\n"
    )
    code, out, _ = run_command(str(path), "--json")
    assert code == 1
    assert json.loads(out)["nodes"]["a"]["error"]["type"] == "expression"


def test_exit_three_and_a_hint_when_the_run_pauses(tmp_path):
    path = tmp_path / "asks.yaml"
    path.write_text(
        "nodes:\n"
        "  - {id: a, type: transform, config: {output: 1}}\n"
        "  - {id: ask, type: approval, config: {prompt: 'go on'}}\n"
        "edges: [{source: a, target: ask}]\n"
    )
    code, out, err = run_command(str(path), "--json")
    report = json.loads(out)
    assert (code, report["status"], report["nodes"]["ask"]["status"]) == (3, "paused", "waiting")
    assert f"run {report['run']} paused at ask: decide it in the app or over the API" in err


def test_inputs_of_the_wrong_type_are_refused_before_anything_runs(sum_workflow):
    code, out, _ = run_command(str(sum_workflow), "--input", "xs=oops", "--json")
    report = json.loads(out)
    assert code == 2
    assert report["status"] == "invalid"
    assert any("xs" in error["message"] for error in report["errors"])


def test_invalid_workflow_exits_two_and_runs_nothing(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"nodes": [{"id": "a", "type": "nope"}]}))
    code, out, err = run_command(str(path), "--json")
    assert code == 2
    assert json.loads(out) == {
        "status": "invalid",
        "errors": [{"code": "unknown_type", "message": "node a: unknown type 'nope'", "node": "a"}],
    }
    assert err == ""


def test_text_that_is_not_a_document_is_invalid(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    code, out, _ = run_command(str(path), "--json")
    assert code == 2
    assert json.loads(out)["errors"][0]["code"] == "bad_document"


def test_plain_output_lists_node_states(sum_workflow):
    code, out, _ = run_command(str(sum_workflow), "--input", "xs=[4]")
    assert code == 0
    assert "status: succeeded" in out and "a: succeeded" in out and "output out" in out


def test_missing_file_is_a_command_error():
    with pytest.raises(CommandError, match="no such workflow file"):
        call_command("run_workflow", "/nonexistent/flow.json")


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("xs=[1,2]", ("xs", [1, 2])),
        ("n=3", ("n", 3)),
        ("flag=true", ("flag", True)),
        ("name=alice", ("name", "alice")),
        ("q=a=b", ("q", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_input_values_are_json_when_they_parse(pair, expected):
    assert parse_input(pair) == expected


def test_input_without_equals_is_refused():
    with pytest.raises(CommandError, match="key=value"):
        parse_input("novalue")


def test_the_run_is_recorded_like_any_other(sum_workflow):
    from workflows.models import NodeRun, RunEvent, WorkflowRun

    code, out, _ = run_command(str(sum_workflow), "--input", "xs=[4]", "--json")
    report = json.loads(out)
    run = WorkflowRun.objects.get(pk=report["run"])
    assert code == 0
    assert (run.status, run.trigger, run.outputs) == ("succeeded", "cli", {"out": "total=4"})
    assert run.lease_owner == ""
    assert set(NodeRun.objects.filter(run=run).values_list("node_id", "status")) == {
        ("a", "succeeded"),
        ("out", "succeeded"),
    }
    seqs = list(RunEvent.objects.filter(run=run).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_saved_workflow_runs_by_id_and_a_file_run_twice_reuses_its_workflow(sum_workflow):
    from workflows.models import WorkflowRun

    _, first, _ = run_command(str(sum_workflow), "--input", "xs=[1]", "--json")
    workflow_id = WorkflowRun.objects.get(pk=json.loads(first)["run"]).workflow_id
    _, again, _ = run_command(str(sum_workflow), "--input", "xs=[2]", "--json")
    assert WorkflowRun.objects.get(pk=json.loads(again)["run"]).workflow_id == workflow_id
    code, by_id, _ = run_command(str(workflow_id), "--input", "xs=[5, 5]", "--json")
    assert code == 0
    assert json.loads(by_id)["outputs"] == {"out": "total=10"}


def test_an_unknown_workflow_id_is_a_clear_error():
    with pytest.raises(CommandError, match="no workflow with id 987654"):
        call_command("run_workflow", "987654", stdout=io.StringIO(), stderr=io.StringIO())


MAP_OF_THREE = (
    "inputs: {xs: {type: array, default: [1, 2, 3]}}\n"
    "nodes:\n"
    "  - {id: start, type: start}\n"
    "  - {id: each, type: map, config: {items: '{{ inputs.xs }}'}}\n"
    "  - {id: double, type: transform, parent: each, config: {output: '{{ loop.item * 2 }}'}}\n"
    "  - {id: plus, type: transform, parent: each, config: {output: '{{ double + 1 }}'}}\n"
    "  - {id: out, type: output, config: {value: '{{ each }}'}}\n"
    "edges:\n"
    "  - {source: start, target: each}\n"
    "  - {source: double, target: plus}\n"
    "  - {source: each, target: out}\n"
)


def progress_lines(err: str) -> list[str]:
    """Each progress line written to stderr, without its carriage return and line clearing."""
    lines = (chunk.split("\n")[0].removesuffix("\033[K") for chunk in err.split("\r"))
    return [line for line in lines if line.startswith("[")]


def test_progress_counts_top_level_nodes_only_not_each_iterations_body(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(MAP_OF_THREE)
    code, out, err = run_command(str(path), "--json")
    assert code == 0
    assert json.loads(out)["outputs"] == {"out": [3, 5, 7]}
    lines = progress_lines(err)
    assert [line.split("] ")[1].split(" nodes")[0] for line in lines] == ["1/3", "2/3", "3/3"]
    assert lines[-1].startswith("[" + "#" * 20 + "] 3/3 nodes")


def test_progress_of_a_saved_workflow_counts_its_top_level_nodes(tmp_path):
    from workflows.models import WorkflowRun

    path = tmp_path / "map.yaml"
    path.write_text(MAP_OF_THREE)
    _, first, _ = run_command(str(path), "--json")
    workflow_id = WorkflowRun.objects.get(pk=json.loads(first)["run"]).workflow_id
    code, _, err = run_command(str(workflow_id), "--json")
    assert code == 0
    assert progress_lines(err)[-1].startswith("[" + "#" * 20 + "] 3/3 nodes")


def test_progress_bar_keeps_its_width_and_never_counts_past_the_total():
    from types import SimpleNamespace

    from workflows.management.commands.run_workflow import Progress

    written: list[str] = []
    progress = Progress(2, written.append)
    for node in ("a", "b", "a", "b"):  # a node finishing again (a resumed run) counts once
        progress(SimpleNamespace(type="node.status", status="succeeded", node=node, iteration=None))
    lines = progress_lines("".join(written))
    assert lines[-1].startswith("[" + "#" * 20 + "] 2/2 nodes")
    assert {len(line.split("]")[0]) for line in lines} == {21}
