import { describe, expect, it } from "vitest";
import { rootCauseText } from "./rootCauses";

describe("rootCauseText", () => {
  it("names the failing node, its error and the nodes it took down", () => {
    const text = rootCauseText({ node: "fetch", error: { message: "HTTP 503", type: "http" }, affected: ["parse", "store"], failures: 1 });
    expect(text).toEqual({ where: "fetch", why: "HTTP 503", tookDown: "took down 2 nodes: parse, store" });
  });

  it("names a body node's iteration and how many more failed alike", () => {
    const text = rootCauseText({
      node: "check",
      iteration: "each[1]",
      iterations: ["each[1]", "each[4]", "each[7]"],
      error: { message: "bad item", type: "error" },
      affected: ["each"],
      failures: 3,
    });
    expect(text.where).toBe("check in each[1] (and 2 more)");
    expect(text.tookDown).toBe("took down 1 node: each");
  });
});
