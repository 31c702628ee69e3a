import { describe, expect, it } from "vitest";
import { LARGE_GRAPH, START_ZOOM, startViewport } from "./viewport";

const grid = (count: number, columns = 25) =>
  Array.from({ length: count }, (_, i) => ({ position: { x: 200 * (i % columns) + 1000, y: 120 * Math.floor(i / columns) - 500 } }));

describe("the opening viewport", () => {
  it("fits a small graph whole (no start viewport)", () => {
    expect(startViewport(grid(LARGE_GRAPH), 1200, 800)).toBeNull();
  });

  it("opens a large graph at a readable zoom on its top-left corner", () => {
    const view = startViewport(grid(500), 1200, 800);
    expect(view).not.toBeNull();
    const { x, y, zoom } = view!;
    expect(zoom).toBeGreaterThanOrEqual(START_ZOOM.min);
    expect(zoom).toBeLessThanOrEqual(START_ZOOM.max);
    // the first node's corner is on screen near the top-left, the far corner well off it
    expect(1000 * zoom + x).toBeCloseTo(40);
    expect(-500 * zoom + y).toBeCloseTo(40);
    expect((1000 + 200 * 24) * zoom + x).toBeGreaterThan(1200);
  });

  it("never zooms out past the readable minimum, even for a wide start", () => {
    const wide = Array.from({ length: 300 }, (_, i) => ({ position: { x: i * 5000, y: 0 } }));
    expect(startViewport(wide, 1200, 800)?.zoom).toBe(START_ZOOM.min);
  });
});

describe("the whole graph's bounds", () => {
  it("takes measured sizes, else declared, else estimated ones", async () => {
    const { graphBounds } = await import("./viewport");
    expect(graphBounds([])).toBeNull();
    const bounds = graphBounds([
      { position: { x: -10, y: 5 }, measured: { width: 100, height: 50 } },
      { position: { x: 300, y: 400 }, initialWidth: 220, initialHeight: 90 },
      { position: { x: 0, y: 0 }, width: 480, height: 260 },
    ]);
    expect(bounds).toEqual({ x: -10, y: 0, width: 530, height: 490 });
  });
});
