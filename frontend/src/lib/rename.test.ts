import { describe, expect, it } from "vitest";
import { renameInConfig, renameInExpression, renameInTemplate } from "./rename";

describe("renaming a node id in expressions", () => {
  it("rewrites free uses of the name and nothing else", () => {
    expect(renameInExpression("len(fetch.body) > vars.fetch", "fetch", "load")).toBe("len(load.body) > vars.fetch");
    expect(renameInExpression("fetcher + fetch_2 + fetch", "fetch", "load")).toBe("fetcher + fetch_2 + load");
    expect(renameInExpression("'fetch' + \"fetch\" + fetch['fetch']", "fetch", "load")).toBe("'fetch' + \"fetch\" + load['fetch']");
    expect(renameInExpression("get(fetch , 'x', 1) if fetch . ok else 2", "fetch", "load")).toBe("get(load , 'x', 1) if load . ok else 2");
    expect(renameInExpression("[fetch for x in fetch]", "fetch", "load")).toBe("[load for x in load]");
  });

  it("rewrites only inside {{ }} in a template", () => {
    expect(renameInTemplate("fetch: {{ fetch.status }} / {{fetch}}", "fetch", "load")).toBe("fetch: {{ load.status }} / {{load}}");
    expect(renameInTemplate("no expression", "fetch", "load")).toBe("no expression");
  });

  it("treats declared expression fields as plain expressions and keeps untouched parts", () => {
    const config = {
      cases: [{ handle: "fetch", expression: "fetch.status == 200" }],
      headers: { a: "{{ fetch.headers }}", b: "fetch" },
      n: 3,
    };
    const out = renameInConfig(config, "fetch", "load", ["cases[].expression"]);
    expect(out).toEqual({
      cases: [{ handle: "fetch", expression: "load.status == 200" }],
      headers: { a: "{{ load.headers }}", b: "fetch" },
      n: 3,
    });
    const same = { x: "{{ other }}" };
    expect(renameInConfig(same, "fetch", "load")).toBe(same);
  });
});
