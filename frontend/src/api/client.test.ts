import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { approvalFailure } from "../lib/approval";
import { ApiError, api } from "./client";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function answer(status: number, body: unknown) {
  const sent: Sent[] = [];
  vi.stubGlobal("document", { cookie: "csrftoken=tok%3D1" });
  vi.stubGlobal("window", { location: { pathname: "/workflows/1/runs/7/", assign: vi.fn() } });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      sent.push({
        url,
        method: init.method ?? "GET",
        headers: init.headers as Record<string, string>,
        body: init.body ? JSON.parse(String(init.body)) : undefined,
      });
      return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return sent;
}

describe("api.approve", () => {
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => vi.unstubAllGlobals());

  it("names the iteration of a body node it decides", async () => {
    const sent = answer(200, { id: 7, status: "queued" });
    await api.approve(7, "ok", true, { ticket: "OPS-1" }, "M[2]");
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe("/api/runs/7/nodes/ok/approve/");
    expect(sent[0].method).toBe("POST");
    expect(sent[0].headers["X-CSRFToken"]).toBe("tok=1");
    expect(sent[0].body).toEqual({ approved: true, data: { ticket: "OPS-1" }, iteration: "M[2]" });
  });

  it("sends no iteration for a top-level node", async () => {
    const sent = answer(200, { id: 7, status: "queued" });
    await api.approve(7, "ok", false);
    await api.approve(7, "ok", false, null, "");
    expect(sent.map((s) => s.body)).toEqual([
      { approved: false, data: null },
      { approved: false, data: null },
    ]);
  });

  it("turns a 409 iteration_required into a message that asks to choose an iteration", async () => {
    answer(409, { errors: [{ code: "iteration_required", message: "node ok waits in several iterations: M[0], M[2]; name one" }] });
    const error = await api.approve(7, "ok", true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(409);
    const shown = approvalFailure(error as ApiError);
    expect(shown.needsIteration).toBe(true);
    expect(shown.conflict).toBe(false);
    expect(shown.text).toBe(
      "This node waits in several iterations: choose the one this decision is for, then decide again. The server said: node ok waits in several iterations: M[0], M[2]; name one",
    );
  });
});
