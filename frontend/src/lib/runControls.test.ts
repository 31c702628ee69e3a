import { describe, expect, it } from "vitest";
import { runControls } from "./runControls";

describe("runControls", () => {
  it("offers Pause and Cancel while the run runs", () => {
    expect(runControls({ status: "running", nodes: { a: { status: "running" } } })).toEqual({
      cancel: true,
      pause: true,
      resume: false,
    });
  });

  it("offers Resume when the run was paused on demand (no node waits)", () => {
    const paused = runControls({ status: "paused", nodes: { a: { status: "succeeded" }, b: { status: "pending" } } });
    expect(paused).toEqual({ cancel: true, pause: false, resume: true });
  });

  it("leaves a run parked on a waiting node to that node's decision", () => {
    expect(runControls({ status: "paused", nodes: { ask: { status: "waiting" } } }).resume).toBe(false);
    const inBody = {
      status: "paused" as const,
      nodes: { m: { status: "running" as const } },
      iterations: { ask: { "m[1]": { status: "waiting" as const } } },
    };
    expect(runControls(inBody).resume).toBe(false);
  });

  it("offers nothing but the history controls once the run ended", () => {
    expect(runControls({ status: "succeeded" })).toEqual({ cancel: false, pause: false, resume: false });
    expect(runControls({ status: null }).cancel).toBe(true); // not known yet: it may still run
  });
});
