"""Checks a run report against a conformance scenario's `expect` (see its README)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

TOLERANCE_S = 0.010


def seconds(stamp: str | None) -> float | None:
    if stamp is None:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def mismatches(expect: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """Every expectation the report breaks, as readable lines (empty when it conforms)."""
    problems: list[str] = []
    for key, wanted in expect.items():
        check = CHECKS.get(key)
        if check is None:
            problems.append(f"unknown expectation {key!r}")
        else:
            problems.extend(check(wanted, report))
    return problems


def _status(wanted: str, report: dict) -> list[str]:
    if report.get("status") != wanted:
        return [f"run status {report.get('status')!r}, expected {wanted!r}: {report.get('errors')}"]
    return []


def _nodes(wanted: dict, report: dict) -> list[str]:
    out = []
    for node_id, fields in wanted.items():
        node = report.get("nodes", {}).get(node_id)
        if node is None:
            out.append(f"node {node_id} is missing from the report")
            continue
        for field, value in fields.items():
            error = node.get("error") or {}
            if field == "error_type":
                actual = error.get("type")
            elif field == "recovery_status":  # what its on_failure.run did
                actual = (error.get("recovery") or {}).get("status")
            else:
                actual = node.get(field)
            if actual != value:
                out.append(f"node {node_id}.{field} = {actual!r}, expected {value!r}")
    return out


def _outputs(wanted: dict, report: dict) -> list[str]:
    outputs = report.get("outputs", {})
    return [
        f"outputs[{key}] = {outputs.get(key)!r}, expected {value!r}"
        for key, value in wanted.items()
        if key not in outputs or outputs[key] != value
    ]


def _times(report: dict, node_id: str) -> tuple[float | None, float | None]:
    node = report.get("nodes", {}).get(node_id, {})
    return seconds(node.get("started_at")), seconds(node.get("finished_at"))


def _before(pairs: list, report: dict) -> list[str]:
    out = []
    for x, y in pairs:
        _, x_end = _times(report, x)
        y_start, _ = _times(report, y)
        if x_end is None or y_start is None or x_end > y_start:
            out.append(f"{x} did not finish before {y} started ({x_end} vs {y_start})")
    return out


def _overlap(pairs: list, report: dict) -> list[str]:
    out = []
    for x, y in pairs:
        xs, xe = _times(report, x)
        ys, ye = _times(report, y)
        if None in (xs, xe, ys, ye) or not (xs < ye and ys < xe):
            out.append(f"{x} and {y} did not overlap")
    return out


def _starts_before_end(pairs: list, report: dict) -> list[str]:
    out = []
    for x, y in pairs:
        xs, _ = _times(report, x)
        _, ye = _times(report, y)
        if xs is None or ye is None or not xs < ye:
            out.append(f"{x} did not start before {y} finished")
    return out


def _never_started(node_ids: list, report: dict) -> list[str]:
    return [
        f"{node_id} started"
        for node_id in node_ids
        if report.get("nodes", {}).get(node_id, {}).get("started_at") is not None
    ]


def _wall(report: dict) -> float:
    return seconds(report["finished_at"]) - seconds(report["started_at"])


def _max_wall(limit: float, report: dict) -> list[str]:
    wall = _wall(report)
    return [f"run took {wall:.3f} s, more than {limit} s"] if wall > limit else []


def _min_wall(limit: float, report: dict) -> list[str]:
    wall = _wall(report)
    return [f"run took {wall:.3f} s, less than {limit} s"] if wall < limit else []


def max_concurrency(report: dict, tolerance: float = TOLERANCE_S) -> int:
    """The most node executions that overlapped at one instant (edges shaved by `tolerance`)."""
    moments = []
    for node in report.get("nodes", {}).values():
        start, end = seconds(node.get("started_at")), seconds(node.get("finished_at"))
        if start is not None and end is not None and end - start > 2 * tolerance:
            moments.append((start + tolerance, 1))
            moments.append((end - tolerance, -1))
    current = peak = 0
    for _, step in sorted(moments):
        current += step
        peak = max(peak, current)
    return peak


def _max_concurrent(limit: int, report: dict) -> list[str]:
    peak = max_concurrency(report)
    return [f"{peak} nodes ran at once, more than {limit}"] if peak > limit else []


def _iterations(wanted: dict, report: dict) -> list[str]:
    iterations = report.get("iterations", {})
    return [
        f"{container} ran {len(iterations.get(container, []))} iterations, expected {n}"
        for container, n in wanted.items()
        if len(iterations.get(container, [])) != n
    ]


def _error_codes(wanted: list, report: dict) -> list[str]:
    found = {error.get("code") for error in report.get("errors", [])}
    return [
        f"no error with code {code!r} (got {sorted(found)})" for code in wanted if code not in found
    ]


def _error_mentions(wanted: list, report: dict) -> list[str]:
    messages = [error.get("message", "") for error in report.get("errors", [])]
    return [
        f"no error mentions {text!r}" for text in wanted if not any(text in m for m in messages)
    ]


CHECKS = {
    "status": _status,
    "nodes": _nodes,
    "outputs": _outputs,
    "before": _before,
    "overlap": _overlap,
    "starts_before_end": _starts_before_end,
    "never_started": _never_started,
    "max_wall_s": _max_wall,
    "min_wall_s": _min_wall,
    "max_concurrent": _max_concurrent,
    "iterations": _iterations,
    "error_codes": _error_codes,
    "error_mentions": _error_mentions,
}
