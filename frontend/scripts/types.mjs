// `npm run types [-- OUT_FILE]`: the workflow document's TypeScript types, generated from its JSON
// Schema (engine/schema/document.json) and formatted with this project's prettier settings.
// tests/workflows/test_frontend_types.py regenerates them into a temporary file and fails when
// src/lib/document.generated.ts differs.
import { writeFile } from "node:fs/promises";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";
import { compileFromFile } from "json-schema-to-typescript";
import prettier from "prettier";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const schema = here("../../engine/schema/document.json");
const target = here("../src/lib/document.generated.ts");
const banner = `/* Generated from engine/schema/document.json by \`npm run types\`: do not edit by hand. */`;

const source = await compileFromFile(schema, { bannerComment: banner, unknownAny: true, format: false });
const settings = await prettier.resolveConfig(target);
const formatted = await prettier.format(source, { ...settings, parser: "typescript" });
await writeFile(process.argv[2] ?? target, formatted);
