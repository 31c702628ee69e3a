import { describe, expect, it } from "vitest";
import { shortcutFor } from "../hooks/useShortcuts";
import { parseRoute, paths } from "../router";

describe("parseRoute", () => {
  it("maps the stable addresses to pages", () => {
    expect(parseRoute("/")).toEqual({ page: "list" });
    expect(parseRoute("/workflows/12/")).toEqual({ page: "editor", workflowId: 12, runId: null });
    expect(parseRoute("/workflows/12/runs/7/")).toEqual({ page: "editor", workflowId: 12, runId: 7 });
    expect(parseRoute("/workflows/x/")).toEqual({ page: "missing", path: "/workflows/x/" });
  });

  it("round-trips the paths it builds", () => {
    expect(parseRoute(paths.run(3, 9))).toEqual({ page: "editor", workflowId: 3, runId: 9 });
    expect(parseRoute(paths.diff(3, 4, 9))).toEqual({ page: "editor", workflowId: 3, runId: null, diff: { a: 4, b: 9 } });
    expect(parseRoute(paths.secrets())).toEqual({ page: "secrets" });
    expect(parseRoute("/secrets")).toEqual({ page: "secrets" });
  });
});

describe("shortcutFor", () => {
  const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }> = {}) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    ...mods,
  });

  it("saves with Ctrl+S or Cmd+S even while typing in a field", () => {
    expect(shortcutFor(key("s", { ctrlKey: true }), true)).toBe("save");
    expect(shortcutFor(key("s", { metaKey: true }), false)).toBe("save");
  });

  it("leaves undo and copy to the text field being typed in", () => {
    expect(shortcutFor(key("z", { ctrlKey: true }), true)).toBeNull();
    expect(shortcutFor(key("z", { ctrlKey: true }), false)).toBe("undo");
    expect(shortcutFor(key("Z", { ctrlKey: true, shiftKey: true }), false)).toBe("redo");
    expect(shortcutFor(key("y", { ctrlKey: true }), false)).toBe("redo");
  });
});
