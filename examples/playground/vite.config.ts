/**
 * The playground's static site: `npm run playground` serves it (http://127.0.0.1:5173),
 * `npm run build:playground` writes it to examples/output/playground: the playground (index.html) and
 * the browser benchmark (bench.html). Relative paths throughout, so the folder works from any URL,
 * offline.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  worker: { format: 'es' },
  build: {
    outDir: here('../output/playground'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      input: { index: here('index.html'), bench: here('bench.html') },
      // The worker bundle (all of tfjs) takes most of the build; the timing notice is not a problem.
      checks: { bundlerTimings: false },
    },
  },
});
