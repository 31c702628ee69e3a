import { describe, expect, it } from "vitest";
import { approvalFailure, parseApprovalData, waitingApproval } from "./approval";

describe("approval dialog logic", () => {
  it("reads optional JSON data", () => {
    expect(parseApprovalData("  ")).toEqual({ ok: true, value: null });
    expect(parseApprovalData('{"reason": "ok"}')).toEqual({ ok: true, value: { reason: "ok" } });
    expect(parseApprovalData("{nope").ok).toBe(false);
  });

  it("says clearly that a second decision was refused", () => {
    const conflict = approvalFailure({ status: 409, message: "run 4 was already resumed" });
    expect(conflict.conflict).toBe(true);
    expect(conflict.text).toMatch(/^Already decided .*run 4 was already resumed/);
    expect(approvalFailure({ status: 500, message: "boom" })).toEqual({
      kind: "error",
      conflict: false,
      text: "The decision failed: boom",
    });
  });

  it("finds the approval node the run waits at", () => {
    const nodes = [
      { id: "a", type: "delay" },
      { id: "ok", type: "approval" },
    ];
    expect(waitingApproval(nodes, { a: { status: "waiting" }, ok: { status: "running" } })).toBeNull();
    expect(waitingApproval(nodes, { ok: { status: "waiting" } })).toBe("ok");
  });
});
