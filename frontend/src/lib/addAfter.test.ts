import { describe, expect, it } from "vitest";
import type { CanvasNode } from "./flow";
import { ADD_AFTER_GAP, placeAfter } from "./addAfter";

const node = (id: string, x: number, y: number): CanvasNode => ({
  id,
  type: "transform",
  position: { x, y },
  width: 220,
  height: 80,
  data: { node: { id, type: "transform" } },
});

describe("placeAfter", () => {
  it("puts the new node to the right of its source, level with a single handle", () => {
    expect(placeAfter([node("a", 100, 50)], "a", 0, 1)).toEqual({ x: 100 + 220 + ADD_AFTER_GAP, y: 50 });
  });

  it("spreads a condition's handles into lanes", () => {
    const nodes = [node("c", 0, 200)];
    const top = placeAfter(nodes, "c", 0, 2);
    const bottom = placeAfter(nodes, "c", 1, 2);
    expect(top!.y).toBeLessThan(200);
    expect(bottom!.y).toBeGreaterThan(200);
  });

  it("moves down past a node already there", () => {
    const nodes = [node("a", 0, 0), node("b", 320, 0)];
    expect(placeAfter(nodes, "a", 0, 1)!.y).toBeGreaterThanOrEqual(80);
  });

  it("knows no unknown source", () => {
    expect(placeAfter([], "nope", 0, 1)).toBeNull();
  });
});
