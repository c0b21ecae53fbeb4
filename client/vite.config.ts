/// <reference types="vitest/config" />
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// During `npm run dev` the API and Socket.IO live on the Python server.
const backend = process.env.CHAT_BACKEND ?? "http://127.0.0.1:8080";

const COMPRESSIBLE = /\.(js|css|svg|json|txt|html)$/;

/**
 * Writes a .gz and a .br beside each hashed asset, once, at build time and at the highest
 * levels, so neither the app (aiohttp's FileResponse) nor nginx (gzip_static) compresses per request.
 */
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      const assets = join(outDir, "assets");
      for (const name of await readdir(assets)) {
        if (!COMPRESSIBLE.test(name)) continue;
        const data = await readFile(join(assets, name));
        const gz = await promisify(gzip)(data, { level: 9 });
        const br = await promisify(brotliCompress)(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        });
        await writeFile(join(assets, `${name}.gz`), gz);
        await writeFile(join(assets, `${name}.br`), br);
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), tailwindcss(), precompress()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false },
  server: {
    proxy: {
      "/api": backend,
      "/socket.io": { target: backend, ws: true },
    },
  },
  test: {
    // Component tests (*.test.tsx) choose a DOM with a `@vitest-environment jsdom` comment.
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
