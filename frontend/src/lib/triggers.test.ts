import { describe, expect, it } from "vitest";
import { activationHint, fireTimeLabel, triggerOf, webhookUrl } from "./triggers";
import type { TriggerInfo } from "./types";

const hook: TriggerInfo = { node: "hook", type: "webhook", armed: true, url: "/hooks/abc/", last_fire_at: null };
const tick: TriggerInfo = { node: "tick", type: "schedule", armed: false, upcoming: [], last_fire_at: null };

describe("triggers", () => {
  it("makes the webhook URL absolute on the canvas's server", () => {
    expect(webhookUrl("/hooks/abc/", "http://127.0.0.1:8000/")).toBe("http://127.0.0.1:8000/hooks/abc/");
  });

  it("finds a node's trigger, or none", () => {
    expect(triggerOf([hook, tick], "tick")).toBe(tick);
    expect(triggerOf(undefined, "tick")).toBeNull();
  });

  it("says what activation turns on", () => {
    expect(activationHint(true, [hook, tick])).toBe("Active: its webhooks answer and schedules fire");
    expect(activationHint(false, [tick])).toBe("Inactive: turn it on so its schedules fire");
    expect(activationHint(false, [])).toBe("No webhook or schedule to turn on");
  });

  it("keeps a time it cannot read as it came", () => {
    expect(fireTimeLabel("soon")).toBe("soon");
    expect(fireTimeLabel("2026-12-06T10:00:00Z")).toMatch(/2026/);
  });
});
