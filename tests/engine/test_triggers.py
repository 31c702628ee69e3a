"""Trigger nodes (SPEC §8): a run begins at the trigger that started it; the other triggers
are skipped; nothing may lead into a trigger; schedule configs are checked."""

from engine import all_problems, load_document
from engine.handlers import registry
from tests.engine.support import doc, run

WEBHOOK = {"config": {"method": "POST"}}
SCHEDULE = {"config": {"cron": "*/5 * * * *"}}
REQUEST = {"method": "POST", "headers": {"x-a": "1"}, "query": {"q": "2"}, "body": {"n": 3}}


def graph() -> dict:
    return load_document(
        doc(
            [
                ("hook", "webhook", WEBHOOK),
                ("tick", "schedule", SCHEDULE),
                ("begin", "start", {}),
                ("use", "transform", {"config": {"output": "{{ input }}"}}),
            ],
            [("hook", "use"), ("tick", "use"), ("begin", "use")],
        )
    )


def test_a_webhook_run_begins_at_its_webhook_and_skips_the_other_triggers():
    trigger = {"node": "hook", "data": REQUEST}
    report, _ = run(graph(), reg=registry, options={"trigger": trigger})
    nodes = report["nodes"]
    assert nodes["hook"]["status"] == "succeeded"
    assert nodes["hook"]["output"] == REQUEST
    for other in ("tick", "begin"):
        assert nodes[other]["status"] == "skipped"
        assert nodes[other]["reason"] == "not this run's trigger"
    assert nodes["use"]["output"] == REQUEST
    assert report["status"] == "succeeded"


def test_a_schedule_run_outputs_its_fire_time():
    fire = {"scheduled_for": "2026-12-06T10:00:00Z", "fired_at": "2026-12-06T10:00:01Z"}
    report, _ = run(graph(), reg=registry, options={"trigger": {"node": "tick", "data": fire}})
    assert report["nodes"]["tick"]["output"] == fire
    assert report["nodes"]["hook"]["status"] == "skipped"
    assert report["nodes"]["use"]["output"] == fire


def test_a_manual_run_runs_start_and_skips_webhook_and_schedule_nodes():
    report, _ = run(graph(), reg=registry, inputs={})
    nodes = report["nodes"]
    assert nodes["begin"]["status"] == "succeeded"
    assert nodes["hook"]["reason"] == nodes["tick"]["reason"] == "not this run's trigger"
    assert nodes["use"]["status"] == "succeeded"


def test_a_manual_run_of_a_webhook_only_workflow_skips_everything_after_it():
    document = load_document(
        doc(
            [("hook", "webhook", WEBHOOK), ("use", "transform", {"config": {"output": 1}})],
            [("hook", "use")],
        )
    )
    report, _ = run(document, reg=registry)
    assert report["nodes"]["hook"]["status"] == "skipped"
    assert report["nodes"]["use"]["status"] == "skipped"
    assert report["nodes"]["use"]["reason"] == "upstream hook skipped"


def problems_of(document: dict) -> list[dict]:
    return [p.to_dict() for p in all_problems(load_document(document))]


def test_an_edge_into_a_trigger_is_refused_with_a_clear_error():
    found = problems_of(
        doc(
            [("a", "transform", {"config": {"output": 1}}), ("hook", "webhook", WEBHOOK)],
            [("a", "hook")],
        )
    )
    messages = [p["message"] for p in found if p["code"] == "unknown_handle"]
    assert messages == [
        "edge e_a_hook: hook (webhook) is where a run begins and has no input: "
        "no edge may lead into it"
    ]


def test_schedule_configs_name_what_is_wrong():
    cases = {
        "cron": (
            {"cron": "*/5 * *"},
            "node s: config.cron: must have 5 fields (minute hour day month weekday), "
            "got '*/5 * *'",
        ),
        "both": (
            {"cron": "* * * * *", "every_s": 60},
            "node s: config.cron: give either cron or every_s (exactly one)",
        ),
        "zone": (
            {"every_s": 60, "timezone": "Mars/Olympus"},
            "node s: config.timezone: unknown time zone 'Mars/Olympus' (e.g. UTC, Europe/Paris)",
        ),
        "bad": (
            {"cron": "61 * * * *"},
            "node s: config.cron: '61 * * * *' is not a valid cron expression",
        ),
    }
    for name, (config, message) in cases.items():
        found = problems_of(doc([("s", "schedule", {"config": config})]))
        assert message in [p["message"] for p in found], (name, found)
    assert not problems_of(doc([("s", "schedule", {"config": {"every_s": 60}})]))


def test_trigger_config_values_are_bounded():
    found = problems_of(
        doc(
            [
                ("h", "webhook", {"config": {"sync_timeout_s": 301, "max_body_bytes": 0}}),
                ("s", "schedule", {"config": {"every_s": 1}}),
            ]
        )
    )
    fields = {(p["node"], p["field"]) for p in found if p["code"] == "bad_config"}
    assert {("h", "config.sync_timeout_s"), ("h", "config.max_body_bytes")} <= fields
    assert ("s", "config.every_s") in fields


def test_a_trigger_inside_a_container_is_refused():
    found = problems_of(
        doc(
            [
                ("m", "map", {"config": {"items": [1]}}),
                ("hook", "webhook", {**WEBHOOK, "parent": "m"}),
            ]
        )
    )
    assert any(
        p["message"] == "node hook: a webhook node begins a run and cannot be inside container 'm'"
        for p in found
    ), found
