import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, api } from "../api/client";
import { addNames, parseNames, saveSharing, sharingBody, sharingErrors } from "./sharing";

const unknown = (name: string) => ({ code: "unknown_user", message: `shared_with: no user named '${name}'`, field: "shared_with" });

describe("share dialog names", () => {
  it("reads names separated by commas or spaces", () => {
    expect(parseNames(" bob, carol  dave,,")).toEqual(["bob", "carol", "dave"]);
    expect(parseNames("   ")).toEqual([]);
  });

  it("adds each name once, in order, and refuses the owner", () => {
    expect(addNames(["bob"], "carol, bob dave", "alice")).toEqual({ names: ["bob", "carol", "dave"], refused: [] });
    expect(addNames([], "alice, bob", "alice")).toEqual({ names: ["bob"], refused: ["alice"] });
  });

  it("sends the whole list, each name once", () => {
    expect(sharingBody(["bob", "carol", "bob", " "])).toEqual({ shared_with: ["bob", "carol"] });
    expect(sharingBody([])).toEqual({ shared_with: [] });
  });
});

describe("sharingErrors", () => {
  it("maps unknown_user problems onto the names they name", () => {
    // Python's repr quotes a name holding a ' with "
    const mapped = sharingErrors([unknown("zed"), { ...unknown("x"), message: `shared_with: no user named "o'neil"` }]);
    expect(mapped.perName).toEqual({ zed: "no user named zed", "o'neil": "no user named o'neil" });
    expect(mapped.other).toEqual([]);
  });

  it("keeps the other problems general", () => {
    const readOnly = { code: "read_only", message: "workflow 5 is shared with you to see and run; only its owner alice can change it" };
    expect(sharingErrors([readOnly, unknown("zed")])).toEqual({ perName: { zed: "no user named zed" }, other: [readOnly.message] });
    expect(sharingErrors([], "request failed (500)")).toEqual({ perName: {}, other: ["request failed (500)"] });
  });
});

describe("saveSharing", () => {
  it("sends the list with what is still typed, and answers the new list", async () => {
    const put = vi.fn(async (names: string[]) => ({ owner: "alice", shared_with: names }));
    const result = await saveSharing(put, ["bob"], "carol, bob", "alice");
    expect(put).toHaveBeenCalledWith(["bob", "carol"]);
    expect(result).toEqual({ ok: true, sharing: { owner: "alice", shared_with: ["bob", "carol"] } });
  });

  it("on a 400 keeps every name sent and marks the unknown ones", async () => {
    const put = vi.fn(async () => {
      throw new ApiError(400, { errors: [unknown("zed"), unknown("yan")] });
    });
    const result = await saveSharing(put, ["bob", "zed"], "yan", "alice");
    expect(result).toEqual({
      ok: false,
      names: ["bob", "zed", "yan"],
      errors: { perName: { zed: "no user named zed", yan: "no user named yan" }, other: [] },
    });
  });

  it("shows a 403 read_only message as it is", async () => {
    const message = "workflow 5 is shared with you to see and run; only its owner alice can change it";
    const put = vi.fn(async () => {
      throw new ApiError(403, { errors: [{ code: "read_only", message }] });
    });
    const result = await saveSharing(put, ["carol"], "", null);
    expect(result).toEqual({ ok: false, names: ["carol"], errors: { perName: {}, other: [message] } });
  });
});

describe("api sharing endpoints", () => {
  beforeEach(() => vi.unstubAllGlobals());
  afterEach(() => vi.unstubAllGlobals());

  function answer(status: number, body: unknown) {
    const sent: { url: string; method: string; body: unknown }[] = [];
    vi.stubGlobal("document", { cookie: "csrftoken=tok" });
    vi.stubGlobal("window", { location: { pathname: "/workflows/5/", assign: vi.fn() } });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        sent.push({ url, method: init.method ?? "GET", body: init.body ? JSON.parse(String(init.body)) : undefined });
        return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
      }),
    );
    return sent;
  }

  it("PUTs the whole list as shared_with", async () => {
    const sent = answer(200, { owner: "alice", shared_with: ["bob", "carol"] });
    const sharing = await api.setSharing(5, ["bob", "carol"]);
    expect(sent).toEqual([{ url: "/api/workflows/5/sharing/", method: "PUT", body: { shared_with: ["bob", "carol"] } }]);
    expect(sharing.shared_with).toEqual(["bob", "carol"]);
  });

  it("a 400 unknown_user reaches the dialog per name", async () => {
    answer(400, { errors: [unknown("zed")] });
    const result = await saveSharing((names) => api.setSharing(5, names), ["bob"], "zed", "alice");
    expect(result).toMatchObject({ ok: false, names: ["bob", "zed"], errors: { perName: { zed: "no user named zed" } } });
  });

  it("reads who is signed in", async () => {
    const sent = answer(200, { username: "bob" });
    expect(await api.me()).toEqual({ username: "bob" });
    expect(sent[0]).toMatchObject({ url: "/api/me/", method: "GET" });
  });
});
