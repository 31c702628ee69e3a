import { describe, expect, it } from "vitest";
import { fieldsFromSchema, formatAnyValue, getIn, initialValue, parseAnyValue, parseFieldInput, setIn } from "./schemaForm";
import type { JsonSchema } from "./types";

const httpSchema: JsonSchema = {
  type: "object",
  required: ["url"],
  properties: {
    method: { type: "string", enum: ["GET", "POST"], default: "GET" },
    url: { type: "string", description: "Where to send it" },
    timeout_s: { type: "number", minimum: 0 },
    retries: { type: "integer" },
    fail_on_status: { type: "boolean", default: true },
    headers: { type: "object", additionalProperties: { type: "string" } },
    tags: { type: "array", items: { type: "string" } },
    auth: { type: "object", properties: { user: { type: "string" }, token: { type: ["string", "null"] } } },
    json: {},
  },
};

describe("fieldsFromSchema", () => {
  const fields = fieldsFromSchema(httpSchema, ["url"]);
  const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));

  it("keeps declaration order and flags required fields", () => {
    expect(fields.map((f) => f.key)).toEqual([
      "method",
      "url",
      "timeout_s",
      "retries",
      "fail_on_status",
      "headers",
      "tags",
      "auth",
      "json",
    ]);
    expect(byKey.url.required).toBe(true);
    expect(byKey.method.required).toBe(false);
  });

  it("maps each JSON Schema type to a field kind", () => {
    expect(byKey.method).toMatchObject({ kind: "enum", options: ["GET", "POST"], default: "GET" });
    expect(byKey.url).toMatchObject({ kind: "string", expression: true, description: "Where to send it" });
    expect(byKey.timeout_s).toMatchObject({ kind: "number", integer: false, minimum: 0 });
    expect(byKey.retries).toMatchObject({ kind: "number", integer: true });
    expect(byKey.fail_on_status).toMatchObject({ kind: "boolean" });
    expect(byKey.headers).toMatchObject({ kind: "map" });
    expect(byKey.tags).toMatchObject({ kind: "array", item: { kind: "string" } });
    expect(byKey.json).toMatchObject({ kind: "json" });
  });

  it("describes nested objects with their own fields and nullable strings", () => {
    const auth = byKey.auth;
    expect(auth.kind).toBe("object");
    if (auth.kind !== "object") return;
    expect(auth.fields.map((f) => f.path)).toEqual([
      ["auth", "user"],
      ["auth", "token"],
    ]);
    expect(auth.fields[1]).toMatchObject({ kind: "string", nullable: true });
  });

  it("marks nested expression fields named like cases[].expression", () => {
    const [cases] = fieldsFromSchema(
      {
        type: "object",
        properties: {
          cases: { type: "array", items: { type: "object", properties: { handle: { type: "string" }, expression: { type: "string" } } } },
        },
      },
      ["cases[].expression"],
    );
    expect(
      cases.kind === "array" && cases.item.kind === "object" && cases.item.fields.map((f) => [f.key, f.kind === "string" && f.expression]),
    ).toEqual([
      ["handle", false],
      ["expression", true],
    ]);
  });

  it("labels fields from their title or key", () => {
    expect(byKey.fail_on_status.label).toBe("Fail on status");
  });

  it("starts blank forms from defaults", () => {
    expect(initialValue(byKey.method)).toBe("GET");
    expect(initialValue(byKey.tags)).toEqual([]);
  });
});

describe("parseFieldInput", () => {
  const [timeout, retries] = fieldsFromSchema({
    type: "object",
    required: ["retries"],
    properties: { timeout_s: { type: "number", minimum: 0 }, retries: { type: "integer", maximum: 5 } },
  });
  const [json] = fieldsFromSchema({ type: "object", properties: { json: {} } });

  it("parses numbers and names the field when one is wrong", () => {
    expect(parseFieldInput(timeout, "2.5")).toEqual({ ok: true, value: 2.5 });
    expect(parseFieldInput(timeout, "abc")).toEqual({ ok: false, error: "Timeout (seconds) must be a number" });
    expect(parseFieldInput(timeout, "-1")).toEqual({ ok: false, error: "Timeout (seconds) must be at least 0" });
    expect(parseFieldInput(retries, "1.5")).toEqual({ ok: false, error: "Retries must be a whole number" });
    expect(parseFieldInput(retries, "9")).toEqual({ ok: false, error: "Retries must be at most 5" });
  });

  it("lets an expression stand in for a number", () => {
    expect(parseFieldInput(timeout, "{{ vars.t }}")).toEqual({ ok: true, value: "{{ vars.t }}" });
  });

  it("drops a blank optional field and refuses a blank required one", () => {
    expect(parseFieldInput(timeout, " ")).toEqual({ ok: true, value: undefined });
    expect(parseFieldInput(retries, "")).toEqual({ ok: false, error: "Retries is required" });
  });

  it("parses JSON fields and reports bad JSON", () => {
    expect(parseFieldInput(json, '{"a": [1]}')).toEqual({ ok: true, value: { a: [1] } });
    const bad = parseFieldInput(json, "{nope");
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^JSON is not valid JSON/);
  });
});

describe("parseAnyValue", () => {
  it("reads JSON when the text is JSON and keeps template text as a string", () => {
    expect(parseAnyValue("Output", '{"total": "{{ fetch.body }}"}')).toEqual({ ok: true, value: { total: "{{ fetch.body }}" } });
    expect(parseAnyValue("Output", "42")).toEqual({ ok: true, value: 42 });
    expect(parseAnyValue("Output", "Hello {{ inputs.name }}")).toEqual({ ok: true, value: "Hello {{ inputs.name }}" });
    expect(parseAnyValue("Output", "{{ fetch.body }}")).toEqual({ ok: true, value: "{{ fetch.body }}" });
    expect(parseAnyValue("Output", "")).toEqual({ ok: true, value: undefined });
  });

  it("refuses a broken object and names the field", () => {
    const parsed = parseAnyValue("Output", '{"a": ');
    expect(!parsed.ok && parsed.error).toMatch(/^Output is not valid JSON/);
  });

  it("shows strings as typed and other values as JSON", () => {
    expect(formatAnyValue("Hello")).toBe("Hello");
    expect(formatAnyValue("{{ fetch.body }}")).toBe("{{ fetch.body }}");
    expect(formatAnyValue("42")).toBe('"42"');
    expect(formatAnyValue({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});

describe("setIn / getIn", () => {
  it("sets nested values without mutating, and removes on undefined", () => {
    const config = { auth: { user: "a" }, url: "x" };
    const next = setIn(config, ["auth", "token"], "t");
    expect(next).toEqual({ auth: { user: "a", token: "t" }, url: "x" });
    expect(config.auth).toEqual({ user: "a" });
    expect(setIn(next, ["url"], undefined)).toEqual({ auth: { user: "a", token: "t" } });
    expect(getIn(next, ["auth", "token"])).toBe("t");
    expect(getIn(next, ["nope", "x"])).toBeUndefined();
  });
});
