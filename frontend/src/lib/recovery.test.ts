import { describe, expect, it } from "vitest";
import { recoveryLine, recoveryOf } from "./recovery";

describe("recovery", () => {
  it("reads the recovery a failed node's error notes", () => {
    const error = { message: "boom", type: "error", recovery: { workflow: "cleanup", run: 12, status: "succeeded" } };
    const recovery = recoveryOf(error);
    expect(recovery).not.toBeNull();
    expect(recoveryLine(recovery!)).toBe("Recovery workflow cleanup (run #12): succeeded");
  });

  it("says why a recovery was refused", () => {
    const recovery = recoveryOf({ message: "x", recovery: { workflow: 7, status: "refused", message: "already recovering" } });
    expect(recoveryLine(recovery!)).toBe("Recovery workflow 7: refused — already recovering");
  });

  it("ignores errors without one", () => {
    expect(recoveryOf({ message: "x" })).toBeNull();
    expect(recoveryOf(null)).toBeNull();
    expect(recoveryOf({ message: "x", recovery: "nonsense" })).toBeNull();
  });
});
