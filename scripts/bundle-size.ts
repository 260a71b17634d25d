/**
 * `npm run size`: the size of tfjs-glassbox in an esbuild browser bundle (minified, and gzipped), with
 * the tfjs packages external (they are peer dependencies the page already has), for the whole library
 * and for a page that imports only `saliency`: tree-shaking leaves LRP, SLIC, the layers and the colour
 * tables out of the second.
 *
 *   npx tsx scripts/bundle-size.ts
 */
import { gzipSync } from 'node:zlib';
import { bundleLibrary } from './library-bundle';

const cases: [string, string][] = [
  ['everything (import * as glassbox)', 'export * from "tfjs-glassbox";'],
  ['saliency only', 'export { saliency } from "tfjs-glassbox";'],
  ['integratedGradients + heatmap', 'export { integratedGradients, heatmap } from "tfjs-glassbox";'],
  ['lrp only', 'export { lrp } from "tfjs-glassbox";'],
];

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.log('tfjs-glassbox in an esbuild browser bundle (ESM, minified, @tensorflow/* external)');
for (const [label, source] of cases) {
  const code = await bundleLibrary(source, { minify: true });
  console.log(`${label.padEnd(36)} ${kb(code.length).padStart(9)} minified ${kb(gzipSync(code).length).padStart(9)} gzipped`);
}
