/**
 * `npm run demo`: explains real MNIST digits with every attribution method of tfjs-glassbox and writes
 * heatmap PNGs plus an HTML page that shows them side by side (examples/output/demo/index.html), then
 * shows the gradient family on nsfwjs's pretrained MobileNetV2 (examples/demo-mobilenet.ts), the colour,
 * edge and pixel scores of an EdgeFilterStem model (examples/demo-stem.ts) and the per-token
 * attributions of a small text classifier (examples/demo-text.ts).
 *
 * Usage: `npm run demo [-- --backend cpu|wasm]` (default wasm, the fastest Node backend without
 * tfjs-node).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  applyColormap,
  concatTiles,
  deepLift,
  featureAblation,
  gradCam,
  gradCamPlusPlus,
  gradientShap,
  guidedBackprop,
  guidedBackpropIntegratedGradients,
  guidedGradCam,
  heatmap,
  integratedGradients,
  kernelShap,
  lrp,
  mfpp,
  occlusion,
  overlay,
  rise,
  saliency,
  scoreCam,
  smoothGrad,
  smoothTaylor,
  type HeatmapOptions,
} from '../src/index';
import { writePng } from '../src/node/index';
import { mobileNetSection } from './demo-mobilenet';
import { stemScoresSection } from './demo-stem';
import { textSection } from './demo-text';
import { TOKEN_CSS } from './support/token-html';
import { trainedMnistCnn } from './mnist-cnn';

const OUTPUT = join('examples', 'output', 'demo');
const CACHE = join('examples', '.cache', 'mnist-cnn');
const STEM_CACHE = join('examples', '.cache', 'stem-cnn');
const TEXT_CACHE = join('examples', '.cache', 'text-classifier');

/** One column of the demo page: a method, how to call it, how to colour it. */
interface DemoMethod {
  name: string;
  note: string;
  /** `background`: 16 other test digits, the baseline set of the methods that take one. */
  explain: (model: tfl.LayersModel, x: tf.Tensor, target: number[], background: tf.Tensor) => Promise<tf.Tensor>;
  heatmap: HeatmapOptions;
}

/** Feature groups of the perturbation methods: a 7×7 grid of 4×4-pixel blocks, shared by every digit. */
const BLOCKS = Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => [7 * Math.floor(r / 4) + Math.floor(c / 4)]));

/** Signed maps: blue below 0, white at 0, red above; magnitudes: black (0) to yellow. */
const signed: HeatmapOptions = { sign: 'all', colormap: 'bwr', clip: { percentile: 99 } };
const magnitude: HeatmapOptions = { sign: 'absolute_value', colormap: 'inferno', clip: { percentile: 99 } };
/** Pixels per digit pixel on the page (28 → 56: the twenty columns fit a 1366-pixel laptop screen). */
const SCALE = 2;
/** Opacity of a map over its digit. */
const ALPHA = 0.75;

const METHODS: DemoMethod[] = [
  { name: 'Saliency', note: '|∂f_c/∂x|', explain: (m, x, target) => saliency(m, x, { target }), heatmap: magnitude },
  {
    name: 'Integrated Gradients',
    note: '64 Gauss–Legendre steps, baseline 0',
    explain: (m, x, target) => integratedGradients(m, x, { target, steps: 64 }),
    heatmap: signed,
  },
  {
    name: 'SmoothGrad',
    note: '50 samples, noise 15% of the range',
    explain: (m, x, target) => smoothGrad(m, x, { target, samples: 50, noiseLevel: 0.15, seed: 1 }),
    heatmap: magnitude,
  },
  {
    name: 'SmoothTaylor',
    note: '150 roots, σ = 0.3',
    explain: (m, x, target) => smoothTaylor(m, x, { target, samples: 150, stdev: 0.3, seed: 1 }),
    heatmap: signed,
  },
  {
    name: 'Guided IG',
    note: 'IG with guided-backprop ReLUs',
    explain: (m, x, target) => guidedBackpropIntegratedGradients(m, x, { target, steps: 64 }),
    heatmap: signed,
  },
  {
    name: 'Guided Backprop',
    note: 'ReLUs pass back positive gradients only',
    explain: (m, x, target) => guidedBackprop(m, x, { target }),
    heatmap: signed,
  },
  {
    name: 'DeepLift',
    note: 'Rescale rule, baseline 0; sums to logit(x) − logit(0)',
    explain: (m, x, target) => deepLift(m, x, { target, baseline: 0 }),
    heatmap: signed,
  },
  {
    name: 'GradientSHAP',
    note: '64 samples, baselines: 16 other test digits',
    explain: (m, x, target, background) => gradientShap(m, x, { target, baselines: background, samples: 64, seed: 1 }),
    heatmap: signed,
  },
  {
    name: 'LRP ε-+-flat',
    note: "composite 'epsilon-plus-flat'",
    explain: (m, x, target) => lrp(m, x, { target, composite: 'epsilon-plus-flat' }),
    heatmap: signed,
  },
  {
    name: 'LRP ε',
    note: "composite 'epsilon', ε = 0.01",
    explain: (m, x, target) => lrp(m, x, { target, composite: 'epsilon', epsilon: 0.01 }),
    heatmap: signed,
  },
  {
    name: 'Occlusion',
    note: '6×6 window, stride 2, baseline 0',
    explain: (m, x, target) => occlusion(m, x, { target, window: [6, 6, 1], strides: [2, 2, 1] }),
    heatmap: signed,
  },
  {
    name: 'RISE',
    note: '2000 masks, 7×7 grid, p = 0.5; shown minus its mean',
    explain: async (m, x, target) => centred(await rise(m, x, { target, samples: 2000, gridSize: 7, seed: 1, batchSize: 100 })),
    heatmap: signed,
  },
  {
    name: 'MFPP',
    note: '2000 masks, 5 SLIC levels from 8 segments, softmax score; shown minus its mean',
    explain: async (m, x, target) =>
      centred(await mfpp(m, x, { target, samples: 2000, baseSegments: 8, score: 'softmax', seed: 1, batchSize: 100 })),
    heatmap: signed,
  },
  {
    name: 'Grad-CAM',
    note: "layer 'conv1' (26×26: the 11×11 of 'conv2' blurs the strokes away), ReLU",
    explain: (m, x, target) => gradCam(m, x, { target, layer: 'conv1' }),
    heatmap: magnitude,
  },
  {
    name: 'Guided Grad-CAM',
    note: "guided backprop ⊙ Grad-CAM of 'conv1' (nearest upsampling)",
    explain: (m, x, target) => guidedGradCam(m, x, { target, layer: 'conv1' }),
    heatmap: signed,
  },
  {
    name: 'Grad-CAM++',
    note: "layer 'conv1', second-order weights of the positive gradients",
    explain: (m, x, target) => gradCamPlusPlus(m, x, { target, layer: 'conv1' }),
    heatmap: magnitude,
  },
  {
    name: 'Score-CAM',
    note: "layer 'conv1': each channel's map masks the input, weights softmax over channels",
    explain: (m, x, target) => scoreCam(m, x, { target, layer: 'conv1' }),
    heatmap: magnitude,
  },
  {
    name: 'Feature ablation',
    note: '7×7 grid of 4×4 blocks set to 0 one at a time',
    explain: (m, x, target) => featureAblation(m, x, { target, featureMask: BLOCKS }),
    heatmap: signed,
  },
  {
    name: 'KernelSHAP',
    note: '300 coalitions of the 49 blocks, baseline 0',
    explain: (m, x, target) => kernelShap(m, x, { target, featureMask: BLOCKS, samples: 300, seed: 1 }),
    heatmap: signed,
  },
];

/**
 * RISE and MFPP estimate E[score | pixel kept], positive everywhere: showing each map minus its mean
 * makes the pixels that raise the score above average red and those that lower it blue.
 */
function centred(map: tf.Tensor): tf.Tensor {
  const result = tf.tidy(() => tf.sub(map, tf.mean(map, [1, 2, 3], true)));
  map.dispose();
  return result;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  const backend = argument('backend', 'wasm');
  await tf.setBackend(backend);
  console.log(`tfjs backend: ${tf.getBackend()}`);
  mkdirSync(OUTPUT, { recursive: true });
  const { model, accuracy, test } = await trainedMnistCnn(CACHE);
  console.log(`test accuracy: ${(100 * accuracy).toFixed(1)}%`);

  // One digit of each of the first six classes, explained for its true class.
  const labels = await test.y.data();
  const picks = [0, 1, 2, 3, 4, 5].map((digit) => labels.findIndex((l) => l === digit));
  const x = tf.gather(test.x, picks);
  const background = tf.slice(test.x, 100, 16);
  const target = picks.map((i) => labels[i]);
  const size = 28 * SCALE;
  const upscale = (images: tf.Tensor) => tf.image.resizeNearestNeighbor(images as tf.Tensor4D, [size, size]);

  const rows: string[] = [];
  const columns: tf.Tensor[][] = [tf.unstack(upscale(x))];
  for (const method of METHODS) {
    const started = performance.now();
    const attribution = await method.explain(model, x, target, background);
    const seconds = (performance.now() - started) / 1000;
    // The map over its digit: the package's heatmap, laid on the input by overlay.
    const rgb = tf.tidy(() => upscale(overlay(x, heatmap(attribution, method.heatmap), { alpha: ALPHA })));
    const tiles = tf.unstack(rgb);
    columns.push(tiles);
    for (let i = 0; i < tiles.length; i++) await writePng(join(OUTPUT, `${slug(method.name)}-${i}.png`), tiles[i]);
    rows.push(`<tr><th>${method.name}</th><td>${method.note}</td><td>${seconds.toFixed(2)} s</td></tr>`);
    console.log(`${method.name.padEnd(22)} ${seconds.toFixed(2)} s`);
    attribution.dispose();
    rgb.dispose();
  }
  for (let i = 0; i < picks.length; i++) await writePng(join(OUTPUT, `input-${i}.png`), columns[0][i]);
  for (const [name, options] of [['signed', signed], ['magnitude', magnitude]] as const) {
    const bar = tf.tidy(() => tf.tile(tf.reshape(applyColormap(tf.linspace(0, 1, size), options.colormap), [1, size, 3]), [8, 1, 1]));
    await writePng(join(OUTPUT, `legend-${name}.png`), bar);
    bar.dispose();
  }
  const grid = concatTiles(picks.map((_, i) => columns.map((column) => column[i])), { padding: 4 });
  await writePng(join(OUTPUT, 'grid.png'), grid);
  const sections = [await mobileNetSection(OUTPUT), await stemScoresSection(OUTPUT, STEM_CACHE), await textSection(TEXT_CACHE)];
  writeFileSync(join(OUTPUT, 'index.html'), page(METHODS, picks.length, target, rows, accuracy, tf.getBackend(), sections.join('\n')));
  console.log(`wrote ${join(OUTPUT, 'index.html')} and ${join(OUTPUT, 'grid.png')}`);
  [x, background, grid, ...columns.flat()].forEach((t) => t.dispose());
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function page(
  methods: DemoMethod[],
  count: number,
  target: number[],
  timings: string[],
  accuracy: number,
  backend: string,
  sections: string,
): string {
  const legend = (m: DemoMethod) =>
    m.heatmap.sign === 'all'
      ? `<img class="legend" src="legend-signed.png"><div class="scale"><span>−</span><span>0</span><span>+</span></div>`
      : `<img class="legend" src="legend-magnitude.png"><div class="scale"><span>0</span><span>|max|</span></div>`;
  const header = ['<th>class</th><th>input</th>', ...methods.map((m) => `<th title="${m.note}">${m.name}${legend(m)}</th>`)].join('');
  const body = Array.from({ length: count }, (_, i) => {
    const cells = [
      `<th class="digit">${target[i]}</th><td><img src="input-${i}.png"></td>`,
      ...methods.map((m) => `<td><img src="${slug(m.name)}-${i}.png"></td>`),
    ];
    return `<tr>${cells.join('')}</tr>`;
  }).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tfjs-glassbox demo</title>
<style>
body{font-family:system-ui,sans-serif;font-size:14px;margin:12px 16px;color:#1d232b}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:20px 0 6px}p{margin:4px 0 8px;max-width:1300px}
table.maps{border-collapse:collapse}table.maps td,table.maps th{padding:2px 3px;text-align:center;vertical-align:top;font-size:12px}
table.maps th{font-weight:600;width:${28 * SCALE}px}table.maps th.digit{width:auto;font-size:18px;vertical-align:middle;padding:0 6px}
img{image-rendering:pixelated;display:block;margin:0 auto}
figure{display:inline-block;margin:0 4px 4px 0}figure img{width:200px}figcaption{font-size:12px;text-align:center}
img.legend{width:${28 * SCALE}px;height:8px;margin-top:3px;border:1px solid #aaa}
.scale{display:flex;justify-content:space-between;font-weight:normal;font-size:11px;color:#555}
table.notes td,table.notes th{padding:1px 8px;text-align:left;font-size:13px}
.bar{display:flex;align-items:center;gap:4px;font-size:12px;text-align:left}.bar span{width:64px}.bar i{display:inline-block;height:10px}${TOKEN_CSS}
</style>
</head><body>
<h1>tfjs-glassbox: why does the CNN see these digits?</h1>
<p>A small CNN trained on real MNIST digits (test accuracy ${(100 * accuracy).toFixed(1)}%), explained for each digit's true
class on the tfjs <code>${backend}</code> backend. Every map is laid over its digit (opacity ${ALPHA}). <b>Signed</b> maps (legend
<img src="legend-signed.png" style="display:inline;width:60px;height:8px">): red pixels raise the class score, blue ones lower it,
white is 0. <b>Magnitude</b> maps (legend <img src="legend-magnitude.png" style="display:inline;width:60px;height:8px">): how much a
pixel matters, black 0 to yellow at the 99th percentile of each map. Hover a method's name for its settings.</p>
<table class="maps"><tr>${header}</tr>
${body}
</table>
<h2>Methods</h2>
<table class="notes"><tr><th>method</th><th>settings</th><th>time for ${count} digits</th></tr>
${timings.join('\n')}
</table>
${sections}
</body></html>
`;
}

await main();
