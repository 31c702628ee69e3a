import { describe, expect, it } from "vitest";
import { countdown, listenLabel, shouldPoll, type ListenState } from "./listen";

const state = (phase: ListenState["state"]): ListenState => ({
  node: "hook",
  url: "/hooks/t/test/",
  state: phase,
  started_at: null,
  expires_at: null,
  seconds_left: phase === "listening" ? 120 : 0,
  captured_at: null,
  capture: null,
});

describe("listen for a test event", () => {
  it("counts down from the server's seconds_left on the browser's clock", () => {
    expect(countdown(120, 1000, 1000)).toBe(120);
    expect(countdown(120, 1000, 2500)).toBe(119);
    expect(countdown(1.2, 0, 5000)).toBe(0);
  });
  it("polls only while listening", () => {
    expect(shouldPoll(state("listening"))).toBe(true);
    expect(shouldPoll(state("captured"))).toBe(false);
    expect(shouldPoll(state("expired"))).toBe(false);
    expect(shouldPoll(null)).toBe(false);
  });
  it("says what it waits for, with the countdown", () => {
    expect(listenLabel(state("listening"), 42)).toBe("Waiting for a test event… 42 s");
    expect(listenLabel(state("captured"), 0)).toBe("Test event captured");
    expect(listenLabel(state("expired"), 0)).toMatch(/listen again/);
    expect(listenLabel(null, 0)).toMatch(/test URL/);
  });
});
