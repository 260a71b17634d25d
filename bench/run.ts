/**
 * `npm run bench`: every benchmark, one after another, each in its own process (a fresh tfjs); the
 * last one runs the ratios in headless Chromium on webgl and webgpu (bench/browser.ts).
 * Ratios are against the physical limit of one batched forward (+ backward) pass; they are
 * measurements, not tests, and vary with the machine and its load.
 */
import { spawnSync } from 'node:child_process';

const scripts = [
  ['bench/gradients.ts', 'gradient family (saliency, IG) vs predict'],
  ['bench/backend-gaps.ts', 'input gradients with and without the backend-gap fixes'],
  ['bench/lrp.ts', 'LRP per composite vs saliency'],
  ['bench/perturbation.ts', 'MFPP / RISE vs predict, segmentation share'],
  ['bench/layer.ts', 'layer and neuron attribution vs IG / saliency, completeness'],
  ['bench/information.ts', 'unitInformation (10 000 units × 5 000 samples) vs plain-JS float64'],
  ['bench/perturbation-family.ts', 'feature ablation, permutation, Shapley sampling, KernelSHAP, LIME vs predict'],
  ['bench/browser.ts', 'the same ratios on webgl and webgpu in headless Chromium'],
];

let failed = 0;
for (const [script, title] of scripts) {
  console.log(`\n======== ${title} (${script})`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
