import { describe, expect, it } from "vitest";
import { previewLine, wantsPreview } from "./preview";

describe("expression preview", () => {
  it("previews a template with {{ }} or a bare expression, nothing else", () => {
    expect(wantsPreview("hello {{ a.b }}", false)).toBe(true);
    expect(wantsPreview("hello", false)).toBe(false);
    expect(wantsPreview("{{ unclosed", false)).toBe(false);
    expect(wantsPreview("a > 1", true)).toBe(true);
    expect(wantsPreview("  ", true)).toBe(false);
  });

  it("reads the answer as one line: the value, or what went wrong, and which run it used", () => {
    expect(previewLine({ run: 7, value: 5, text: "5", truncated: false })).toEqual({ text: "= 5 (last run #7)", error: false });
    expect(previewLine({ run: null, value: "x", text: '"x"' })).toEqual({ text: '= "x" (no run yet)', error: false });
    expect(previewLine({ run: 7, error: "unknown name 'nothing'" })).toEqual({
      text: "⚠ unknown name 'nothing' (last run #7)",
      error: true,
    });
    expect(previewLine({ run: 1, text: "a".repeat(500) }, 10).text).toBe(`= ${"a".repeat(9)}… (last run #1)`);
  });
});
