import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { ExpressionScope } from "../lib/expressions";
import { setIn } from "../lib/schemaForm";
import { loopSchema } from "../lib/loopSchema.fixture";
import { ConfigForm } from "./ConfigForm";

const scope: ExpressionScope = { upstream: [], fieldsOf: () => [] };

/** The form's markup for `value`. */
function render(value: Record<string, unknown>) {
  return renderToStaticMarkup(createElement(ConfigForm, { schema: loopSchema, expressionFields: [], value, scope, onChange: () => {} }));
}

/** The keys whose label carries the required marker. */
function markedRequired(html: string): string[] {
  const labels = [...html.matchAll(/<label for="cfg-([^"]+)">(.*?)<\/label>/g)];
  return labels.filter(([, , inner]) => inner.includes('class="required"')).map(([, key]) => key);
}

describe("ConfigForm required markers", () => {
  it("follow the loop's mode", () => {
    let config: Record<string, unknown> = {};
    expect(markedRequired(render(config))).toEqual(["count"]);
    // What NodeSettings does with the form's onChange when the mode select changes.
    config = setIn(config, ["mode"], "for_each");
    expect(markedRequired(render(config))).toEqual(["items"]);
    config = setIn(config, ["mode"], "do_while");
    expect(markedRequired(render(config))).toEqual(["condition"]);
    config = setIn(config, ["mode"], "count");
    expect(markedRequired(render(config))).toEqual(["count"]);
  });

  it("still marks a schema's top-level required fields", () => {
    const schema = { type: "object", required: ["url"], properties: { url: { type: "string" }, note: { type: "string" } } };
    const html = renderToStaticMarkup(createElement(ConfigForm, { schema, expressionFields: [], value: {}, scope, onChange: () => {} }));
    expect(markedRequired(html)).toEqual(["url"]);
  });
});
