import { describe, expect, it } from "vitest";
import { humanLabel, joinLabel } from "./labels";
import { JOIN_RULES } from "./types";

describe("human labels", () => {
  it("spells config keys for people", () => {
    expect(humanLabel("url")).toBe("URL");
    expect(humanLabel("timeout_s")).toBe("Timeout (seconds)");
    expect(humanLabel("retry_after_s")).toBe("Retry after (seconds)");
    expect(humanLabel("fail_on_status")).toBe("Fail on status");
    expect(humanLabel("max_body_bytes")).toBe("Max body bytes");
    expect(humanLabel("json_body")).toBe("JSON body");
  });

  it("names every join rule in words", () => {
    for (const rule of JOIN_RULES) expect(joinLabel(rule)).not.toContain("_");
    expect(joinLabel("none_failed_min_one_success")).toBe("None failed, at least one succeeded (default)");
  });
});
