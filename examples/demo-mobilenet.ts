/**
 * The demo page's MobileNetV2 section: one row per family — gradients (saliency, Integrated Gradients,
 * guided backpropagation, DeepLift, GradientSHAP), LRP, the CAM family (Grad-CAM, Grad-CAM++, LayerCAM,
 * Eigen-CAM, guided Grad-CAM) and the perturbation family on SLIC superpixels (feature ablation,
 * KernelSHAP, LIME) — on nsfwjs's pretrained MobileNetV2 (224×224, ReLU6, a softmax fused into its last
 * Dense layer), explaining its top class for the anatomy drawing, with DeepLift's summation gap
 * `Σ A − (logit(x) − logit(black))` against logits computed from the last layer's weights.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  deepLift,
  eigenCam,
  featureAblation,
  gradCam,
  gradCamPlusPlus,
  gradientShap,
  guidedBackprop,
  guidedGradCam,
  heatmap,
  integratedGradients,
  kernelShap,
  layerCam,
  lime,
  lrp,
  saliency,
  slic,
  superpixelMask,
  type HeatmapOptions,
} from '../src/index';
import { writePng } from '../src/node/index';
import { loadMobileNetV2, NSFW_CLASSES } from './models/pretrained';
import { loadAnatomyDrawing } from './support/anatomy-drawing';

/** Signed maps, channels summed: blue below 0, white at 0, red above. */
const SIGNED: HeatmapOptions = { sign: 'all', colormap: 'bwr', clip: { percentile: 99.5 }, reduce: 'sum' };

/** What every method gets: the picture, its class, a black baseline and its superpixels as feature groups. */
interface Inputs {
  x: tf.Tensor;
  target: number;
  black: tf.Tensor;
  superpixels: tf.Tensor;
  /** The model's 5 logits (its last Dense layer without the softmax), as a function model. */
  logits: (x: tf.Tensor) => tf.Tensor;
}

interface Column {
  family: string;
  name: string;
  note: string;
  explain: (model: tfl.LayersModel, inputs: Inputs) => Promise<tf.Tensor>;
}

const COLUMNS: Column[] = [
  { family: 'gradients', name: 'Saliency', note: 'signed gradient', explain: (m, { x, target }) => saliency(m, x, { target, abs: false }) },
  {
    family: 'gradients',
    name: 'Integrated Gradients',
    note: '32 steps, black baseline',
    explain: (m, { x, target }) => integratedGradients(m, x, { target, steps: 32 }),
  },
  { family: 'gradients', name: 'Guided Backprop', note: 'ReLU6s pass back positive gradients only', explain: (m, { x, target }) => guidedBackprop(m, x, { target }) },
  {
    family: 'gradients',
    name: 'DeepLift',
    note: 'Rescale, black baseline, softmax left out',
    explain: (m, { x, target, black }) => deepLift(m, x, { target, baseline: black }),
  },
  {
    family: 'gradients',
    name: 'GradientSHAP',
    note: '8 samples, baselines black and white',
    explain: async (m, { x, target, black }) => {
      const baselines = tf.concat([black, tf.onesLike(black)]);
      try {
        return await gradientShap(m, x, { target, baselines, samples: 8, seed: 1 });
      } finally {
        baselines.dispose();
      }
    },
  },
  {
    family: 'LRP',
    name: 'LRP ε-+-flat',
    note: "composite 'epsilon-plus-flat', softmax stripped",
    explain: (m, { x, target }) => lrp(m, x, { target, composite: 'epsilon-plus-flat' }),
  },
  { family: 'CAMs', name: 'Grad-CAM', note: 'default layer: the last with h·w > 1 (7×7)', explain: (m, { x, target }) => gradCam(m, x, { target }) },
  { family: 'CAMs', name: 'Grad-CAM++', note: 'same layer', explain: (m, { x, target }) => gradCamPlusPlus(m, x, { target }) },
  { family: 'CAMs', name: 'LayerCAM', note: 'same layer', explain: (m, { x, target }) => layerCam(m, x, { target }) },
  { family: 'CAMs', name: 'Eigen-CAM', note: 'first principal component, class-agnostic', explain: (m, { x }) => eigenCam(m, x) },
  { family: 'CAMs', name: 'Guided Grad-CAM', note: 'Grad-CAM × guided backprop', explain: (m, { x, target }) => guidedGradCam(m, x, { target }) },
  {
    family: 'perturbation',
    name: 'Feature ablation',
    note: 'SLIC superpixels whitened one at a time; the logit',
    explain: (_model, { x, target, superpixels, logits }) => featureAblation(logits, x, { target, featureMask: superpixels, baseline: 1 }),
  },
  {
    family: 'perturbation',
    name: 'KernelSHAP',
    note: '256 coalitions of the superpixels, white baseline; the logit',
    explain: (_model, { x, target, superpixels, logits }) => kernelShap(logits, x, { target, featureMask: superpixels, baseline: 1, samples: 256, seed: 1 }),
  },
  {
    family: 'perturbation',
    name: 'LIME',
    note: '256 samples, white baseline, Lasso α = 0.01; the logit',
    explain: (_model, { x, target, superpixels, logits }) => lime(logits, x, { target, featureMask: superpixels, baseline: 1, samples: 256, seed: 1 }),
  },
];

const slug = (name: string) => `mobilenet-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/** Runs the columns, writes `mobilenet-*.png` to `outputDir` and returns the section's HTML. */
export async function mobileNetSection(outputDir: string): Promise<string> {
  const model = await loadMobileNetV2();
  const picture = loadAnatomyDrawing();
  const black = tf.zerosLike(picture);
  const probabilities = model.predict(picture) as tf.Tensor;
  const values = await probabilities.data();
  const target = (await tf.argMax(probabilities, 1).data())[0];
  // The logits from the last Dense layer's input features, kernel and bias (its softmax left out).
  const classifier = model.layers.at(-1)!;
  const features = tfl.model({ inputs: model.inputs, outputs: classifier.input as tfl.SymbolicTensor });
  const [kernel, bias] = classifier.getWeights();
  const logits = (x: tf.Tensor) => tf.tidy(() => tf.add(tf.matMul(features.predict(x) as tf.Tensor2D, kernel), bias));
  const delta = tf.tidy(() => tf.slice(tf.sub(logits(picture), logits(black)), [0, target], [1, 1]));
  const [logitDelta] = await delta.data();

  const input = tf.squeeze(picture) as tf.Tensor3D;
  await writePng(join(outputDir, 'mobilenet-input.png'), input);
  const segments = await slic(input, { segments: 49, compactness: 20 });
  const inputs: Inputs = { x: picture, target, black, superpixels: superpixelMask(segments), logits };
  const figures = new Map<string, string[]>();
  const notes: string[] = [];
  let gap = NaN;
  for (const column of COLUMNS) {
    const started = performance.now();
    const attribution = await column.explain(model, inputs);
    const seconds = (performance.now() - started) / 1000;
    const tile = tf.tidy(() => tf.squeeze(heatmap(attribution, SIGNED)));
    await writePng(join(outputDir, `${slug(column.name)}.png`), tile);
    if (column.name === 'DeepLift') {
      const total = tf.sum(attribution);
      gap = (await total.data())[0] - logitDelta;
      total.dispose();
    }
    const figure = `<figure><img src="${slug(column.name)}.png" title="${column.note}"><figcaption>${column.name}</figcaption></figure>`;
    figures.set(column.family, [...(figures.get(column.family) ?? []), figure]);
    notes.push(`<tr><td>${column.family}</td><th>${column.name}</th><td>${column.note}</td><td>${seconds.toFixed(2)} s</td></tr>`);
    console.log(`MobileNetV2 ${column.name.padEnd(22)} ${seconds.toFixed(2)} s`);
    tf.dispose([attribution, tile]);
  }
  // kernel and bias are the model's own variables: model.dispose() frees them.
  tf.dispose([picture, input, black, probabilities, delta, inputs.superpixels]);
  model.dispose();

  const rows = [...figures].map(([family, cells]) => `<tr><th>${family}</th><td>${cells.join('')}</td></tr>`);
  return `<h2>Every family on a pretrained MobileNetV2</h2>
<p>nsfwjs's MobileNetV2 (224×224, ReLU6, a softmax fused into its last Dense layer) explaining its top class
'${NSFW_CLASSES[target]}' (p = ${values[target].toFixed(3)}) for an anatomy drawing. Signed maps, channels summed, red raises the
class score (CAMs are non-negative). DeepLift explains the logit (the softmax is left out): its attributions sum to
logit(x) − logit(black) = ${logitDelta.toFixed(4)} up to ${Math.abs(gap).toExponential(1)}. The perturbation methods
whiten ${segments.count} SLIC superpixels (the picture's background is white, so white is "absent") and explain the logit
too: on probabilities of this scale, LIME's Lasso (α = 0.01, as Captum's) sets every coefficient to 0. Blue superpixels on the
figure: whitening them raises the 'drawing' logit (a blank page is the most 'drawing' of all).</p>
<p><img src="mobilenet-input.png"> input</p>
<table class="maps">
${rows.join('\n')}
</table>
<table class="notes"><tr><th>family</th><th>method</th><th>settings</th><th>time for 1 image (wasm)</th></tr>
${notes.join('\n')}
</table>`;
}
