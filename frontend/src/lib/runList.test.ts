import { describe, expect, it } from "vitest";
import { parseRoute, paths } from "../router";
import { runDurationMs } from "./runList";

describe("the runs page", () => {
  it("has its own address", () => {
    expect(parseRoute("/runs/")).toEqual({ page: "runs" });
    expect(parseRoute(paths.runs())).toEqual({ page: "runs" });
  });
  it("says how long a finished run took", () => {
    expect(runDurationMs({ started_at: "2026-12-06T17:00:00.000Z", finished_at: "2026-12-06T17:00:03.200Z" })).toBe(3200);
    expect(runDurationMs({ started_at: "2026-12-06T17:00:00.000Z", finished_at: null })).toBeNull();
  });
});
