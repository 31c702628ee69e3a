import { describe, expect, it } from "vitest";
import { takenBranch } from "./branches";

describe("takenBranch", () => {
  it("says which branch a condition or router took", () => {
    expect(takenBranch("condition", "succeeded", ["false"])).toBe("false branch");
    expect(takenBranch("router", "reused", ["big", "other"])).toBe("big, other branches");
  });
  it("says nothing for other nodes or before the node ended", () => {
    expect(takenBranch("transform", "succeeded", ["out"])).toBeNull();
    expect(takenBranch("condition", "running", null)).toBeNull();
    expect(takenBranch("condition", "failed", [])).toBeNull();
  });
});
