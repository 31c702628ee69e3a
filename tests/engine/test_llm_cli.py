"""`run_workflow --stream` prints an llm node's text as the model streams it, and the report
its tokens."""

import json

import pytest

from tests.engine.test_run_workflow_command import run_command
from tests.llm_server import LLMServer, Reply

pytestmark = [pytest.mark.timeout(60), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asking(tmp_path, settings):
    settings.SWITCHYARD_HTTP_ALLOW_PRIVATE = True
    settings.SWITCHYARD_SECRETS = {"llm_key": "sk-cli-secret-1"}
    with LLMServer() as server:
        path = tmp_path / "ask.json"
        node = {
            "id": "ask",
            "type": "llm",
            "config": {
                "model": "test-model",
                "base_url": server.url,
                "api_key_secret": "llm_key",
                "prompt": "Tell a story",
            },
        }
        path.write_text(json.dumps({"name": "ask", "nodes": [node], "edges": []}))
        yield server, path


def test_stream_prints_the_text_as_it_arrives_and_the_tokens(asking):
    server, path = asking
    server.reply(Reply(text="Once upon a time there was a graph", usage=(5, 9)))
    code, out, _ = run_command(str(path), "--stream")
    assert code == 0
    assert "[ask] Once upon a time there was a graph\n" in out
    assert "tokens: 5 prompt + 9 completion" in out


def test_stream_with_json_keeps_stdout_for_the_report(asking):
    server, path = asking
    server.reply(Reply(text="Short answer", usage=(3, 2)))
    code, out, err = run_command(str(path), "--stream", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert report["nodes"]["ask"]["output"]["text"] == "Short answer"
    assert "[ask] Short answer" in err
