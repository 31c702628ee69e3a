/** Test fixture (not used by the app). */
import type { JsonSchema } from "./types";

/** The loop node type's config_schema as GET /api/node-types/ serves it (engine/handlers). */
export const loopSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    mode: { enum: ["count", "for_each", "while", "do_while"], default: "count" },
    count: { type: ["integer", "string"] },
    items: { type: ["array", "string"] },
    condition: { type: "string", minLength: 1, description: "e.g. loop.index < 3" },
    max_iterations: { type: "integer", minimum: 1, default: 1000 },
  },
  required: [],
  additionalProperties: false,
  allOf: [
    { if: { properties: { mode: { const: "count" } } }, then: { required: ["count"] } },
    { if: { properties: { mode: { const: "for_each" } }, required: ["mode"] }, then: { required: ["items"] } },
    {
      if: { properties: { mode: { enum: ["while", "do_while"] } }, required: ["mode"] },
      then: { required: ["condition"] },
    },
  ],
};
