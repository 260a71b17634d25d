/**
 * The benchmark ratios on the browser backends: builds the playground site (which holds the bench
 * page, examples/playground/src/bench.ts), serves it on 127.0.0.1 and opens
 * `bench.html?backend=webgl` and `?backend=webgpu` in Debian's headless Chromium (WebGL2 and WebGPU on
 * SwiftShader, i.e. on the CPU: the ratios, not the absolute times, carry over to a real GPU).
 *
 *   npx tsx bench/browser.ts [backends=webgl,webgpu]
 */
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright';
import { serveFolder } from '../test/e2e/static-server';
import { CHROMIUM, CHROMIUM_FLAGS, WEBGPU_FLAGS } from '../test/setup/chromium';

const backends = (process.argv[2] ?? 'webgl,webgpu').split(',');

execFileSync('npm', ['run', '--silent', 'build:playground'], { stdio: 'inherit' });
const server = await serveFolder('examples/output/playground');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS, ...WEBGPU_FLAGS] });
let failed = false;
try {
  for (const backend of backends) {
    const page = await browser.newPage();
    await page.goto(`${server.url}bench.html?backend=${backend}`);
    let printed = 0;
    for (;;) {
      const { lines, done, error } = await page.evaluate(() => window.bench ?? { lines: [], done: false, error: null });
      for (const line of lines.slice(printed)) console.log(line);
      printed = lines.length;
      if (done) {
        failed ||= error !== null;
        break;
      }
      await page.waitForTimeout(500);
    }
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
