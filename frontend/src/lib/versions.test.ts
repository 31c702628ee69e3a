import { describe, expect, it } from "vitest";
import { diffLines, savedAtText, type VersionDiff } from "./versions";

describe("diffLines", () => {
  it("says what changed since the revision, node by node, fields first", () => {
    const diff: VersionDiff = {
      revision: 2,
      current_revision: 4,
      fields: ["name"],
      nodes: [
        { id: "fetch", change: "changed", fields: ["config", "name"] },
        { id: "extra", change: "added", fields: [] },
        { id: "gone", change: "removed", fields: [] },
      ],
      edges: [{ id: "e2", change: "removed", fields: [] }],
    };
    expect(diffLines(diff).map((l) => l.text)).toEqual([
      "name: changed",
      "node fetch: changed: config, name",
      "node extra: added since (restoring removes it)",
      "node gone: removed since (restoring brings it back)",
      "edge e2: removed since (restoring brings it back)",
    ]);
  });

  it("is empty when nothing changed", () => {
    expect(diffLines({ revision: 3, current_revision: 3, fields: [], nodes: [], edges: [] })).toEqual([]);
  });
});

describe("savedAtText", () => {
  it("keeps a value it cannot read", () => {
    expect(savedAtText("not a date")).toBe("not a date");
  });
});
