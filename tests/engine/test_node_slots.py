"""The worker's global cap (SPEC §4 "workers also have a global cap"): executions sharing
`node_slots` never have more handlers running at once than it allows, across runs; a node
waiting for a slot is `queued`; containers take no slot, so a body never starves its own
container."""

import asyncio

import pytest

from engine import Execution
from engine.handlers.base import Handler, HandlerResult, Registry
from engine.handlers.builtin import register_builtins
from tests.engine.support import build, doc

pytestmark = pytest.mark.timeout(30)

in_flight = {"now": 0, "most": 0}


class Busy(Handler):
    type = "busy"
    label = "Busy"

    async def run(self, ctx) -> HandlerResult:
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        try:
            await asyncio.sleep(0.02)
        finally:
            in_flight["now"] -= 1
        return HandlerResult(ctx.node_id)


reg = Registry()
register_builtins(reg)
reg.register(Busy)


def parallel(n: int) -> dict:
    return doc([(f"b{k}", "busy") for k in range(n)])


async def run_together(documents: list[dict], slots: int) -> list:
    gate = asyncio.Semaphore(slots)
    events: list = []
    executions = [
        Execution(
            build(document, reg),
            registry=reg,
            sink=events.append,
            options={"node_slots": gate},
        )
        for document in documents
    ]
    reports = await asyncio.gather(*(execution.run() for execution in executions))
    return [report.to_dict() for report in reports], events


@pytest.mark.parametrize("slots", [1, 2, 3])
def test_runs_sharing_slots_never_run_more_handlers_at_once(slots):
    in_flight.update(now=0, most=0)
    reports, events = asyncio.run(run_together([parallel(4), parallel(4), parallel(2)], slots))
    assert [r["status"] for r in reports] == ["succeeded"] * 3
    assert in_flight["most"] == slots  # the cap is reached and never passed
    queued = [e for e in events if e.type == "node.status" and e.status == "queued"]
    assert len(queued) >= 10 - slots  # those waiting for a slot said so


def test_a_container_takes_no_slot_so_its_body_runs_with_one_slot():
    in_flight.update(now=0, most=0)
    document = doc(
        [
            ("m", "map", {"config": {"items": [1, 2, 3], "max_concurrency": 3}}),
            ("b", "busy", {"parent": "m"}),
            ("c", "busy", {"parent": "m"}),
        ],
        [("b", "c")],
    )
    reports, _ = asyncio.run(run_together([document, parallel(2)], slots=1))
    assert [r["status"] for r in reports] == ["succeeded", "succeeded"]
    assert in_flight["most"] == 1
    assert reports[0]["nodes"]["m"]["output"] == ["c", "c", "c"]
