import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { readOnlyError, readOnlyReason, sharedByLabel, workflowAccess } from "./ownership";

describe("workflowAccess", () => {
  it("is owned when the current user is its owner", () => {
    expect(workflowAccess("alice", "alice")).toEqual({ owned: true, owner: "alice" });
    expect(sharedByLabel(workflowAccess("alice", "alice"))).toBeNull();
  });

  it("is shared (not owned) when someone else owns it", () => {
    const access = workflowAccess("bob", "alice");
    expect(access).toEqual({ owned: false, owner: "alice" });
    expect(sharedByLabel(access)).toBe("shared by alice");
  });

  it("compares usernames exactly", () => {
    expect(workflowAccess("Alice", "alice").owned).toBe(false);
  });

  it("counts as owned when the owner or the user is unknown (the server still refuses)", () => {
    expect(workflowAccess("bob", undefined)).toEqual({ owned: true, owner: null });
    expect(workflowAccess(null, "alice")).toEqual({ owned: true, owner: "alice" });
    expect(sharedByLabel(workflowAccess(null, "alice"))).toBeNull();
  });

  it("names the owner in the read-only reason", () => {
    expect(readOnlyReason("alice")).toBe("Shared with you by alice — you can run it and see its runs; only alice can change it");
  });
});

describe("readOnlyError", () => {
  const message = "workflow 5 is shared with you to see and run; only its owner alice can change it";

  it("reads the message of a 403 read_only", () => {
    const error = new ApiError(403, { errors: [{ code: "read_only", message }] });
    expect(readOnlyError(error)).toBe(message);
  });

  it("is null for other errors", () => {
    expect(readOnlyError(new ApiError(409, { errors: [{ code: "stale_revision", message: "stale" }] }))).toBeNull();
    expect(readOnlyError(new Error("network"))).toBeNull();
    expect(readOnlyError(null)).toBeNull();
  });
});
