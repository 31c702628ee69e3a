import { describe, expect, it } from "vitest";
import { clampNoteSize, nextNoteId } from "./notes";

describe("sticky notes", () => {
  it("takes the first free id", () => {
    expect(nextNoteId([])).toBe("note_1");
    expect(
      nextNoteId([
        { id: "note_1", position: { x: 0, y: 0 } },
        { id: "note_3", position: { x: 0, y: 0 } },
      ]),
    ).toBe("note_2");
  });

  it("keeps a size within the document's bounds", () => {
    expect(clampNoteSize({ width: 10, height: 9999 })).toEqual({ width: 40, height: 4000 });
    expect(clampNoteSize({ width: 250.6, height: 120.2 })).toEqual({ width: 251, height: 120 });
  });
});
