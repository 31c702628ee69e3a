import { describe, expect, it } from "vitest";
import { fieldsFromSchema, requiredKeys } from "./schemaForm";
import { loopSchema } from "./loopSchema.fixture";
import type { JsonSchema } from "./types";

const sorted = (set: Set<string>) => [...set].sort();

describe("requiredKeys on the loop schema", () => {
  it("requires count when mode is absent (count is the default mode) or count", () => {
    expect(sorted(requiredKeys(loopSchema, {}))).toEqual(["count"]);
    expect(sorted(requiredKeys(loopSchema, undefined))).toEqual(["count"]);
    expect(sorted(requiredKeys(loopSchema, { count: 3 }))).toEqual(["count"]);
    expect(sorted(requiredKeys(loopSchema, { mode: "count" }))).toEqual(["count"]);
  });

  it("requires items for for_each", () => {
    expect(sorted(requiredKeys(loopSchema, { mode: "for_each" }))).toEqual(["items"]);
    expect(sorted(requiredKeys(loopSchema, { mode: "for_each", items: [1, 2] }))).toEqual(["items"]);
  });

  it("requires condition for while and do_while", () => {
    expect(sorted(requiredKeys(loopSchema, { mode: "while" }))).toEqual(["condition"]);
    expect(sorted(requiredKeys(loopSchema, { mode: "do_while", condition: "x" }))).toEqual(["condition"]);
  });

  it("requires nothing extra for a mode no rule names", () => {
    expect(sorted(requiredKeys(loopSchema, { mode: "forever" }))).toEqual([]);
  });
});

describe("requiredKeys on other schemas", () => {
  it("is the top-level required list when there is no allOf", () => {
    const schema: JsonSchema = { type: "object", required: ["url"], properties: { url: { type: "string" } } };
    expect(sorted(requiredKeys(schema, {}))).toEqual(["url"]);
    expect(sorted(requiredKeys(schema, { url: "x" }))).toEqual(["url"]);
    expect(sorted(requiredKeys({ type: "object" }, {}))).toEqual([]);
    expect(sorted(requiredKeys(undefined, {}))).toEqual([]);
  });

  it("adds then.required to the top-level list", () => {
    const schema: JsonSchema = {
      required: ["name"],
      allOf: [{ if: { required: ["a"] }, then: { required: ["b"] } }],
    };
    expect(sorted(requiredKeys(schema, { a: 1 }))).toEqual(["b", "name"]);
    expect(sorted(requiredKeys(schema, {}))).toEqual(["name"]);
  });

  it("compares const and enum values as JSON (objects, lists, types)", () => {
    const schema: JsonSchema = {
      allOf: [
        { if: { properties: { v: { const: { a: [1, 2] } } }, required: ["v"] }, then: { required: ["x"] } },
        { if: { properties: { n: { enum: [1] } }, required: ["n"] }, then: { required: ["y"] } },
      ],
    };
    expect(sorted(requiredKeys(schema, { v: { a: [1, 2] } }))).toEqual(["x"]);
    expect(sorted(requiredKeys(schema, { v: { a: [2, 1] } }))).toEqual([]);
    expect(sorted(requiredKeys(schema, { n: "1" }))).toEqual([]);
    expect(sorted(requiredKeys(schema, { n: 1 }))).toEqual(["y"]);
  });

  it("treats an if it cannot evaluate as not matching", () => {
    const rule = (cond: unknown): JsonSchema => ({ allOf: [{ if: cond as JsonSchema, then: { required: ["x"] } }] });
    expect(sorted(requiredKeys(rule({ properties: { m: { pattern: "^a" } } }), { m: "abc" }))).toEqual([]);
    expect(sorted(requiredKeys(rule({ properties: { m: { pattern: "^a" } } }), {}))).toEqual([]);
    expect(sorted(requiredKeys(rule({ not: { required: ["m"] } }), {}))).toEqual([]);
    expect(sorted(requiredKeys(rule({ required: "m" }), { m: 1 }))).toEqual([]);
    // Boolean schemas are evaluable; annotations do not count.
    expect(sorted(requiredKeys(rule(true), {}))).toEqual(["x"]);
    expect(sorted(requiredKeys(rule(false), {}))).toEqual([]);
    expect(sorted(requiredKeys(rule({ description: "m is a", properties: { m: { const: "a" } } }), { m: "a" }))).toEqual(["x"]);
  });
});

describe("fieldsFromSchema with a value", () => {
  const requiredOf = (value: unknown) =>
    fieldsFromSchema(loopSchema, [], [], value)
      .filter((f) => f.required)
      .map((f) => f.key);

  it("flags the fields the loop's mode requires", () => {
    expect(requiredOf({})).toEqual(["count"]);
    expect(requiredOf({ mode: "for_each" })).toEqual(["items"]);
    expect(requiredOf({ mode: "while" })).toEqual(["condition"]);
  });

  it("applies a nested object's rules to that object's value", () => {
    const schema: JsonSchema = { type: "object", properties: { inner: loopSchema } };
    const [inner] = fieldsFromSchema(schema, [], [], { inner: { mode: "for_each" } });
    if (inner.kind !== "object") throw new Error("expected an object field");
    expect(inner.fields.filter((f) => f.required).map((f) => f.key)).toEqual(["items"]);
  });
});
