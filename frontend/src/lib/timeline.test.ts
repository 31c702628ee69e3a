import { describe, expect, it } from "vitest";
import { isCritical, timelineSummary, type RunTimeline } from "./timeline";

const timeline: RunTimeline = {
  run: 7,
  status: "succeeded",
  wall_ms: 6500,
  busy_ms: 7500,
  max_parallel_used: 2,
  efficiency: 0.5769,
  critical_path: ["a", "b", "d"],
  critical_path_ms: 6500,
  spans: [],
};

describe("critical path", () => {
  it("marks top-level bars of path nodes only", () => {
    const path = new Set(timeline.critical_path);
    expect(isCritical({ node: "b", iteration: "" }, path)).toBe(true);
    expect(isCritical({ node: "c", iteration: "" }, path)).toBe(false);
    expect(isCritical({ node: "b", iteration: "each[0]" }, path)).toBe(false);
  });

  it("summarises the path, its length and the parallel efficiency", () => {
    expect(timelineSummary(timeline)).toBe("Critical path: a → b → d (6.5 s) · parallel efficiency 58%");
    expect(timelineSummary({ ...timeline, efficiency: null })).toContain("parallel efficiency n/a");
  });

  it("has nothing to say before any node ran", () => {
    expect(timelineSummary(null)).toBeNull();
    expect(timelineSummary({ ...timeline, critical_path: [] })).toBeNull();
  });
});
