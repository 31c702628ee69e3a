import { describe, expect, it } from "vitest";
import { readFlag, writeFlag } from "./storedFlags";

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), items };
}

describe("stored view flags", () => {
  it("are off until set, and read back what was written", () => {
    const storage = memoryStorage();
    expect(readFlag("paletteCollapsed", storage)).toBe(false);
    writeFlag("paletteCollapsed", true, storage);
    expect(readFlag("paletteCollapsed", storage)).toBe(true);
    expect(readFlag("inspectorCollapsed", storage)).toBe(false);
    writeFlag("paletteCollapsed", false, storage);
    expect(readFlag("paletteCollapsed", storage)).toBe(false);
    expect([...storage.items.keys()]).toEqual(["switchyard.view.paletteCollapsed"]);
  });

  it("keep the defaults when storage refuses", () => {
    const refusing = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(readFlag("miniMapHidden", refusing)).toBe(false);
    expect(() => writeFlag("miniMapHidden", true, refusing)).not.toThrow();
    expect(readFlag("miniMapHidden", null)).toBe(false);
  });
});
