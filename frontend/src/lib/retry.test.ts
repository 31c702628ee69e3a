import { describe, expect, it } from "vitest";
import { retryFrom } from "./retry";

describe("retryFrom", () => {
  it("restarts from the one failed node", () => {
    expect(retryFrom({ nodes: { start: { status: "succeeded" }, boom: { status: "failed" }, after: { status: "upstream_failed" } } })).toBe(
      "boom",
    );
  });

  it("re-runs everything when none or several failed", () => {
    expect(retryFrom({ nodes: { start: { status: "succeeded" } } })).toBeUndefined();
    expect(retryFrom({ nodes: { a: { status: "failed" }, b: { status: "failed" } } })).toBeUndefined();
    expect(retryFrom({})).toBeUndefined();
  });

  it("ignores an iteration's record", () => {
    expect(retryFrom({ nodes: { "M[2]/body": { status: "failed" } } })).toBeUndefined();
  });
});
