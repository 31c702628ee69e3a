import { describe, expect, it } from "vitest";
import { canPin, pinnedLabel, whyNotTestable } from "./pins";

describe("pinned data and testing one node", () => {
  it("offers a pin only for a top-level node that ended with an output", () => {
    expect(canPin("succeeded", false, null)).toBe(true);
    expect(canPin("reused", false, null)).toBe(true);
    expect(canPin("failed", false, null)).toBe(false);
    expect(canPin("succeeded", true, null)).toBe(false);
    expect(canPin("succeeded", false, "each[1]")).toBe(false);
  });

  it("says why a node cannot be tested alone", () => {
    expect(whyNotTestable("approval", null, false)).toBe("Cannot test this node on its own: an approval waits for a person's decision.");
    expect(whyNotTestable("transform", "each", false)).toBe("Cannot test a node inside each on its own: it runs once per iteration.");
    expect(whyNotTestable("transform", null, true)).toBe("Save the workflow first: a test runs the saved version.");
    expect(whyNotTestable("http", null, false)).toBeNull();
  });

  it("labels a pin with its run and time", () => {
    expect(pinnedLabel({ output: { v: 1 }, run: 7, pinned_at: "2026-12-06T17:00:00+00:00" })).toBe(
      "Pinned from run #7 · 2026-12-06 17:00:00 UTC",
    );
    expect(pinnedLabel({ output: { v: 1 } })).toBe("Pinned set by hand");
  });
});
