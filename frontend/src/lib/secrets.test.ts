import { describe, expect, it } from "vitest";
import { MASK, maskedSecrets, safeErrorText, secretDate } from "./secrets";

describe("maskedSecrets", () => {
  it("masks every value and sorts by name", () => {
    const rows = maskedSecrets([
      { name: "b", value: "leaked?", created_at: "", updated_at: "" },
      { name: "a", value: MASK, created_at: "", updated_at: "" },
    ]);
    expect(rows.map((r) => [r.name, r.value])).toEqual([
      ["a", MASK],
      ["b", MASK],
    ]);
  });
});

describe("secretDate / safeErrorText", () => {
  it("shows a UTC minute and leaves unparsable text as is", () => {
    expect(secretDate("2026-12-06T14:05:09.123Z")).toBe("2026-12-06 14:05");
    expect(secretDate("soon")).toBe("soon");
  });
  it("never echoes the typed value in an error", () => {
    expect(safeErrorText("bad value hunter2 here", "hunter2")).toBe(`bad value ${MASK} here`);
    expect(safeErrorText("plain", "")).toBe("plain");
  });
});
