import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "./client";
import { EARLY_FOR_MS, earlyPaths, takeEarly, type EarlyReads } from "./early";
import indexHtml from "../../index.html?raw";

/** index.html's inline script, run against a page at `pathname`: the paths it read early. */
function startedByIndexHtml(pathname: string): string[] {
  const script = /<script>([\s\S]*?)<\/script>/.exec(indexHtml)?.[1] ?? "";
  const page: { __switchyardEarly?: EarlyReads } = {};
  const fetch = vi.fn(async (_url: string) => new Response("{}"));
  new Function("location", "fetch", "window", script)({ pathname }, fetch, page);
  expect(fetch.mock.calls.map(([url]) => url)).toEqual(Object.keys(page.__switchyardEarly ?? {}).map((p) => `/api/${p}`));
  return Object.keys(page.__switchyardEarly ?? {});
}

describe("early reads", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("index.html starts the editor's three reads, and none elsewhere", () => {
    for (const pathname of ["/workflows/12/", "/workflows/12/runs/5/", "/workflows/12/diff/1/2/", "/", "/runs/", "/secrets/"]) {
      expect(startedByIndexHtml(pathname)).toEqual(earlyPaths(pathname));
    }
    expect(earlyPaths("/workflows/12/runs/5/")).toEqual(["me/", "node-types/", "workflows/12/"]);
    expect(earlyPaths("/runs/")).toEqual([]);
  });

  it("hands each early answer out once, and not once the page is old", () => {
    const answer = Promise.resolve(new Response("{}"));
    const early: EarlyReads = { "me/": answer, "node-types/": answer };
    expect(takeEarly("me/", early, 50)).toBe(answer);
    expect(takeEarly("me/", early, 60)).toBeNull();
    expect(takeEarly("node-types/", early, EARLY_FOR_MS + 1)).toBeNull();
    expect(early).toEqual({});
    expect(takeEarly("me/", undefined, 1)).toBeNull();
  });

  it("the client's first GET of a path uses the early answer; the next one asks the server", async () => {
    const doc = { id: 3, name: "early", revision: 2 };
    const early: EarlyReads = { "workflows/3/": Promise.resolve(new Response(JSON.stringify(doc), { status: 200 })) };
    const fetch = vi.fn(async () => new Response(JSON.stringify({ ...doc, revision: 3 }), { status: 200 }));
    vi.stubGlobal("window", { __switchyardEarly: early, location: { pathname: "/workflows/3/" } });
    vi.stubGlobal("fetch", fetch);
    expect((await api.getWorkflow(3)).revision).toBe(2);
    expect(fetch).not.toHaveBeenCalled();
    expect((await api.getWorkflow(3)).revision).toBe(3);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
