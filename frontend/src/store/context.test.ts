import { describe, expect, it } from "vitest";
import { shallowEqual } from "./context";

describe("shallowEqual (the store selectors' comparison)", () => {
  it("compares plain objects and arrays one level deep", () => {
    const shared = { a: 1 };
    expect(shallowEqual({ x: 1, y: shared }, { x: 1, y: shared })).toBe(true);
    expect(shallowEqual({ x: 1, y: { a: 1 } }, { x: 1, y: { a: 1 } })).toBe(false);
    expect(shallowEqual({ x: 1 }, { x: 1, y: undefined })).toBe(false);
    expect(shallowEqual({ x: 1, y: undefined }, { x: 1, z: undefined })).toBe(false);
    expect(shallowEqual([1, "a", shared], [1, "a", shared])).toBe(true);
    expect(shallowEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(shallowEqual({ n: NaN }, { n: NaN })).toBe(true);
  });

  it("treats primitives, null and other kinds as zustand's shallow does", () => {
    expect(shallowEqual("a", "a")).toBe(true);
    expect(shallowEqual(null, {})).toBe(false);
    expect(shallowEqual([], {})).toBe(false);
    expect(shallowEqual(new Map([["a", 1]]), new Map([["a", 1]]))).toBe(true);
    expect(shallowEqual(new Set([1]), new Set([2]))).toBe(false);
  });
});
