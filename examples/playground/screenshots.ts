/**
 * Takes the README's screenshots of the playground in headless Chromium (docs/images/playground-*.png):
 * Integrated Gradients next to LRP on an MNIST digit (webgl), and Grad-CAM next to saliency of
 * MobileNetV2 on the drawn house (wasm). Builds the site first.
 *
 *   npx tsx examples/playground/screenshots.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium, type Page } from 'playwright';
import { serveFolder } from '../../test/e2e/static-server';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../test/setup/chromium';

const OUTPUT = 'docs/images';
/** The header, the top of the controls and the maps. */
const CLIP = { x: 0, y: 0, width: 1170, height: 560 };

const idle = (page: Page) => page.waitForFunction(() => window.playground?.ready && !window.playground.running, null, { timeout: 120_000 });

execFileSync('npm', ['run', '--silent', 'build:playground'], { stdio: 'inherit' });
mkdirSync(OUTPUT, { recursive: true });
const server = await serveFolder('examples/output/playground');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await idle(page);
  await page.selectOption('#sample', '3');
  await page.selectOption('#method-a', 'integratedGradients');
  await page.check('#compare');
  await page.selectOption('#method-b', 'lrp');
  await page.click('#run');
  await page.waitForTimeout(200);
  await idle(page);
  await page.screenshot({ path: `${OUTPUT}/playground-mnist.png`, clip: CLIP });

  await page.selectOption('#backend', 'wasm');
  await page.waitForTimeout(200);
  await idle(page);
  await page.selectOption('#model', 'mobilenet-v2');
  await page.waitForTimeout(200);
  await idle(page);
  await page.selectOption('#sample', 'drawing');
  await page.selectOption('#method-a', 'gradCam');
  await page.selectOption('#method-b', 'saliency');
  await page.click('#run');
  await page.waitForTimeout(200);
  await idle(page);
  await page.screenshot({ path: `${OUTPUT}/playground-mobilenet.png`, clip: CLIP });
} finally {
  await browser.close();
  await server.close();
}
console.log(`wrote ${OUTPUT}/playground-mnist.png and playground-mobilenet.png`);
