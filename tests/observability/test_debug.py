import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import chain_document, workflow_for

pytestmark = pytest.mark.django_db


def debug(source: str, commands: str, *args) -> tuple[str, int]:
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("debug", source, *args, stdin=StringIO(commands), stdout=out)
    return out.getvalue(), exited.value.code


@pytest.fixture
def chain_file(tmp_path):
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(chain_document(3)))
    return str(path)


def test_step_pauses_before_every_node_in_order(chain_file):
    out, code = debug(chain_file, "s\ns\n\n")

    pauses = [line for line in out.splitlines() if "paused before" in line]
    assert [p.split("paused before ")[1].split()[0] for p in pauses] == ["n0", "n1", "n2"]
    assert code == 0 and "run succeeded" in out


def test_continue_runs_to_the_end_without_further_pauses(chain_file):
    out, code = debug(chain_file, "c\n")

    assert out.count("paused before") == 1
    assert code == 0


def test_breakpoints_only_stops_at_marked_nodes_and_inspect_shows_upstream_output(user):
    document = chain_document(3)
    document["nodes"][2]["breakpoint"] = True
    workflow = workflow_for(user, document)

    out, code = debug(str(workflow.pk), "i n1\nc\n", "--breakpoints-only")

    assert out.count("paused before") == 1 and "paused before n2" in out
    assert "n1 (transform): succeeded" in out and "output: 1" in out
    assert "input: 1" in out
    assert code == 0


def test_skip_does_not_run_the_node_and_skips_what_depends_on_it(chain_file):
    out, _ = debug(chain_file, "s\nskip\n")

    assert out.count("paused before") == 2
    # issue 18: a skip means what the API's skip means, `skipped` (it was `succeeded` with no
    # edge taken, so what followed read "branch n1.out not taken")
    assert "n1: skipped (skipped by the user)" in out
    assert "n2: skipped (upstream n1 skipped)" in out


def test_quit_cancels_the_run(chain_file):
    out, code = debug(chain_file, "s\nq\n")

    assert "run cancelled" in out
    assert "n1: cancelled (run cancelled: quit from the debugger)" in out
    assert "n2: cancelled" in out
    assert code == 1


def test_unknown_commands_are_explained_and_the_prompt_stays(chain_file):
    out, code = debug(chain_file, "jump\ni nope\nc\n")

    assert "unknown command 'jump'; commands: step (s), continue (c)" in out
    assert "no node 'nope'; nodes: n0, n1, n2" in out
    assert code == 0


def test_end_of_input_quits(chain_file):
    out, code = debug(chain_file, "")

    assert "end of input: quitting" in out
    assert code == 1


def test_the_prompt_shows_the_fields_that_send_secrets_as_stars(tmp_path, settings):
    settings.SWITCHYARD_SECRETS = {"api": "tok-0a1b2c3d"}
    headers = {"Authorization": "Bearer {{ secrets.api }}"}
    document = {
        "version": 1,
        "nodes": [
            {"id": "call", "type": "http", "config": {"url": "https://x.org/", "headers": headers}}
        ],
        "edges": [],
    }
    path = tmp_path / "call.json"
    path.write_text(json.dumps(document))

    out, _ = debug(str(path), "skip\n")

    assert '"headers": {"Authorization": "***"}' in out
    assert "tok-0a1b2c3d" not in out


def test_skip_of_a_body_node_skips_it_in_that_iteration_only(tmp_path):
    document = {
        "version": 1,
        "name": "mapped",
        "nodes": [
            {"id": "m", "type": "map", "config": {"items": [1, 2], "max_concurrency": 1}},
            {"id": "sq", "type": "transform", "parent": "m", "config": {"output": "{{ input }}"}},
        ],
        "edges": [],
    }
    path = tmp_path / "mapped.json"
    path.write_text(json.dumps(document))

    out, _ = debug(str(path), "s\nskip\nc\n")

    assert out.count("paused before sq") == 2
    assert "  sq skipped" in out and "  sq succeeded" in out
    assert "run paused" not in out and "  m: " in out


def approval_file(tmp_path) -> str:
    document = {
        "version": 1,
        "name": "ask in the debugger",
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": 1}},
            {"id": "ask", "type": "approval", "config": {"prompt": "go?"}},
            {"id": "yes", "type": "transform", "config": {"output": "{{ ask.data }}"}},
            {"id": "no", "type": "transform", "config": {"output": "rejected"}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "ask"},
            {"id": "e2", "source": "ask", "source_handle": "approved", "target": "yes"},
            {"id": "e3", "source": "ask", "source_handle": "rejected", "target": "no"},
        ],
    }
    path = tmp_path / "ask.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_an_approval_is_decided_inside_the_debugger_and_the_run_goes_on(tmp_path):
    out, code = debug(approval_file(tmp_path), 'c\napprove {"ok": 1}\n')

    assert "ask waits for an approval: go?" in out
    assert "yes: succeeded" in out and "no: skipped" in out
    assert "run succeeded" in out and code == 0


def test_an_approval_can_be_rejected_and_unknown_answers_are_explained(tmp_path):
    out, code = debug(approval_file(tmp_path), "c\nmaybe\nreject\n")

    assert "unknown command 'maybe'" in out
    assert "no: succeeded" in out and "yes: skipped" in out
    assert code == 0


def failing_file(tmp_path) -> str:
    document = {
        "version": 1,
        "name": "fail in the debugger",
        "settings": {"on_failure": "pause"},
        "nodes": [
            {"id": "a", "type": "transform", "config": {"output": 1}},
            {"id": "boom", "type": "error", "config": {"message": "boom"}},
            {"id": "after", "type": "transform", "config": {"output": 2}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "boom"},
            {"id": "e2", "source": "boom", "target": "after"},
        ],
    }
    path = tmp_path / "boom.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_a_failure_pause_is_retried_or_skipped_inside_the_debugger(tmp_path):
    out, code = debug(failing_file(tmp_path), "c\nretry\nskip\n")

    # the retry is a new attempt, which fails and waits again
    assert out.count("boom failed (boom) and waits: retry, skip, inspect or quit") == 2
    assert "boom: skipped (skipped by the user)" in out
    assert "after: skipped (upstream boom skipped)" in out
    assert "run succeeded" in out and code == 0


def test_quit_at_a_failure_pause_cancels_the_run(tmp_path):
    out, code = debug(failing_file(tmp_path), "c\nq\n")

    assert "run cancelled" in out and code == 1


def test_finish_stops_after_the_node_with_its_output(chain_file):
    out, code = debug(chain_file, "s\nfinish\nc\n")

    assert "stopped after n1 (attempt 1): succeeded" in out
    assert "  output: 1" in out.split("stopped after n1")[1]
    assert out.count("paused before") == 2  # n0, n1: continue runs n2 without stopping
    assert code == 0
