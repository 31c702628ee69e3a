import { describe, expect, it } from "vitest";
import { buildGantt } from "./timeline";
import type { NodeRunRecord } from "./types";

const record = (node_id: string, started_at: string, finished_at: string, duration_ms: number): NodeRunRecord => ({
  node_id,
  attempt: 1,
  status: "succeeded",
  started_at,
  finished_at,
  duration_ms,
});

describe("a rerun's timeline (issue 17 #2)", () => {
  // `fetch` was carried over from the run 74 s earlier; `store` ran in this 3.2 s rerun
  const records = [
    record("fetch", "2026-12-06T10:00:00.000Z", "2026-12-06T10:00:02.000Z", 2000),
    record("store", "2026-12-06T10:01:14.000Z", "2026-12-06T10:01:17.200Z", 3200),
  ];

  it("spans the rerun's own executions, not the carried node's old time", () => {
    const gantt = buildGantt(records, "2026-12-06T10:01:14.000Z");
    expect(gantt.spanMs).toBe(3200);
    expect(gantt.bars.map((b) => [b.node, b.carried ?? false, b.start, b.width])).toEqual([
      ["fetch", true, 0, 0],
      ["store", false, 0, 1],
    ]);
  });

  it("without the run's start (or for a first run) spans every execution, as before", () => {
    expect(buildGantt(records).spanMs).toBe(77_200);
    expect(buildGantt(records, "2026-12-06T10:00:00.000Z").bars.every((b) => !b.carried)).toBe(true);
  });

  it("a start a few ms before the run's (clocks differ) is the run's own", () => {
    const gantt = buildGantt([record("a", "2026-12-06T10:00:00.990Z", "2026-12-06T10:00:02.000Z", 1010)], "2026-12-06T10:00:01.000Z");
    expect(gantt.bars[0].carried).toBeUndefined();
  });
});
