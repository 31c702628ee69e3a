import { describe, expect, it } from "vitest";
import { MASK, maskedSecrets, safeErrorText, secretDate, secretInputError } from "./secrets";

describe("secretInputError", () => {
  it("accepts the API's names and a non-empty value", () => {
    expect(secretInputError("OPENAI_KEY", "sk-1")).toBeNull();
    expect(secretInputError("_a.b-c9", "x")).toBeNull();
  });
  it("names the field that is wrong, in the API's words", () => {
    expect(secretInputError("", "x")?.field).toBe("name");
    expect(secretInputError("9lives", "x")?.message).toMatch(/starting with a letter or '_'/);
    expect(secretInputError("has space", "x")?.field).toBe("name");
    expect(secretInputError("a".repeat(65), "x")?.field).toBe("name");
    expect(secretInputError("ok", "")).toEqual({ field: "value", message: "value: a non-empty string is required" });
    expect(secretInputError("ok", "x".repeat(16_385))?.message).toBe("value: at most 16,384 characters, got 16,385");
  });
});

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
