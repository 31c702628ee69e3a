/** On/off view settings kept across reloads (palette and inspector collapsed, minimap shown),
 * in localStorage under `switchyard.view.<name>`; a browser that refuses storage keeps defaults. */

export type FlagName = "paletteCollapsed" | "inspectorCollapsed" | "miniMapHidden";

type Storage = Pick<globalThis.Storage, "getItem" | "setItem">;

const keyOf = (name: FlagName) => `switchyard.view.${name}`;

export function readFlag(name: FlagName, storage: Storage | null = browserStorage()): boolean {
  try {
    return storage?.getItem(keyOf(name)) === "1";
  } catch {
    return false;
  }
}

export function writeFlag(name: FlagName, on: boolean, storage: Storage | null = browserStorage()): void {
  try {
    storage?.setItem(keyOf(name), on ? "1" : "0");
  } catch {
    // private mode or a full quota: the setting lasts until the page closes
  }
}

function browserStorage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}
