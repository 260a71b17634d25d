import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

/**
 * One suite, three backends: the same test files run on tfjs's cpu and wasm backends in Node and on
 * webgl in headless Debian Chromium (WebGL2 on SwiftShader). `test/setup/backend.ts` picks the backend
 * from the project name. Files named `*.node.test.ts` need Node (fs, child processes) and skip the browser.
 */
const chromiumFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const nodeProject = (backend: 'cpu' | 'wasm') => ({
  test: {
    name: `node-${backend}`,
    environment: 'node',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/backend.ts'],
    env: { GLASSBOX_BACKEND: backend },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

export default defineConfig({
  test: {
    // 2-core CI machine: the three projects run one after another, files within a project in parallel.
    maxWorkers: 2,
    projects: [
      nodeProject('cpu'),
      nodeProject('wasm'),
      {
        test: {
          name: 'browser-webgl',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node.test.ts'],
          setupFiles: ['test/setup/backend.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumFlags },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
