import { defineConfig } from 'vitest/config';

/**
 * The memory suite: default options on real models on node-wasm (`npm run test:memory`). It takes
 * minutes, so it is not part of `npm test`; run it after changing the engine's batching.
 */
export default defineConfig({
  test: {
    name: 'node-wasm-memory',
    environment: 'node',
    include: ['test/memory/**/*.memory.test.ts'],
    setupFiles: ['test/setup/backend.ts'],
    env: { GLASSBOX_BACKEND: 'wasm' },
    testTimeout: 900_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
