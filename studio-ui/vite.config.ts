// Builds the studio's browser app into dist/studio-ui/, which `alembic studio` serves. Relative asset
// paths so the page works wherever the server mounts it; everything is bundled (no CDN, works offline).
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/studio-ui', import.meta.url)),
    emptyOutDir: true,
    // One small app: a single chunk keeps the offline page simple to serve.
    chunkSizeWarningLimit: 400,
  },
  // `vite` dev server: forward the API to a studio started with `alembic studio --port 7860`.
  server: { proxy: { '/api': 'http://127.0.0.1:7860' } },
});
