import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM, CHROMIUM_FLAGS, WEBGPU_FLAGS } from './test/setup/chromium.js';

/**
 * One suite, four backends: the same test files run on tfjs's cpu and wasm backends in Node and on
 * webgl and webgpu in headless Debian Chromium (WebGL2 and WebGPU on SwiftShader).
 * `test/setup/backend.ts` picks the backend from the project. Files named `*.node.test.ts` need Node
 * (fs, child processes) and skip the browser. The `e2e` project drives the built playground in
 * Chromium with playwright (test/e2e).
 */
const nodeProject = (backend: 'cpu' | 'wasm') => ({
  test: {
    name: `node-${backend}`,
    environment: 'node',
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/memory/**'],
    setupFiles: ['test/setup/backend.ts'],
    env: { GLASSBOX_BACKEND: backend },
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

const browserProject = (backend: 'webgl' | 'webgpu', include: string[], flags: string[]) => ({
  test: {
    name: `browser-${backend}`,
    include,
    exclude: ['test/**/*.node.test.ts', 'test/e2e/**', 'test/memory/**'],
    setupFiles: ['test/setup/backend.ts'],
    provide: { glassboxBackend: backend },
    testTimeout: 180_000,
    hookTimeout: 180_000,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: flags } }),
      instances: [{ browser: 'chromium' as const }],
    },
  },
});

/**
 * The webgpu project runs a representative subset, for two reasons (measured on the 2-core machine):
 * - tfjs-backend-webgpu 4.22's synchronous read (`dataSync`, `arraySync`) draws the buffer into a WebGPU
 *   canvas and reads it back through a 2-D canvas; on headless SwiftShader that returns zeros and loses
 *   the device (the next read fails with "Failed to execute 'mapAsync' on 'GPUBuffer': A valid external
 *   Instance reference no longer exists"). The test helpers' finite differences, `heatmap` and
 *   `applyColormap` read synchronously, so their suites cannot run here; the subset reads with `data()`.
 * - All the browser suites take 5 minutes on webgpu (SwiftShader runs the shaders on the CPU), this
 *   subset under one: gradients and IG (guided too), the LRP rules, occlusion, the CAMs, deletion /
 *   insertion, targets and overlays. (lrp, rise and mfpp pass on webgpu as well: 13 s, 19 s, 24 s.)
 */
const WEBGPU_SUITES = [
  'test/infra/backend.test.ts',
  'test/attribution/integrated-gradients.test.ts',
  'test/attribution/guided.test.ts',
  'test/lrp/rules.test.ts',
  'test/perturbation/occlusion.test.ts',
  'test/cam/cam.test.ts',
  'test/metrics/deletion-insertion.test.ts',
  'test/core/target.test.ts',
  'test/viz/overlay.test.ts',
];

export default defineConfig({
  test: {
    // 2-core CI machine: the projects run one after another, files within a project in parallel.
    maxWorkers: 2,
    projects: [
      nodeProject('cpu'),
      nodeProject('wasm'),
      browserProject('webgl', ['test/**/*.test.ts'], CHROMIUM_FLAGS),
      browserProject('webgpu', WEBGPU_SUITES, [...CHROMIUM_FLAGS, ...WEBGPU_FLAGS]),
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          setupFiles: ['test/setup/backend.ts'],
          env: { GLASSBOX_BACKEND: 'cpu' },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
