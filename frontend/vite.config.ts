import { rmSync } from "node:fs";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vitest/config";

/** static/ holds more than the build (static/.gitkeep): clear only the old hashed assets. */
function cleanAssets(): Plugin {
  return {
    name: "switchyard-clean-assets",
    apply: "build",
    buildStart() {
      rmSync(new URL("../static/assets", import.meta.url), { recursive: true, force: true });
    },
  };
}

const backend = "http://127.0.0.1:8000";

// Django serves the build: index.html at / and /workflows/..., assets under /static/.
export default defineConfig({
  plugins: [react(), cleanAssets()],
  base: "/static/",
  build: {
    outDir: "../static",
    // static/.gitkeep (and anything else Django serves from static/) must survive a build.
    emptyOutDir: false,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: {
      "/api": backend,
      "/accounts": backend,
      "/admin": backend,
      "/ws": { target: backend.replace("http", "ws"), ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
