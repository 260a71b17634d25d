/**
 * The demo page's MobileNetV2 section: the gradient family (saliency, guided backpropagation, guided
 * Grad-CAM, DeepLift, GradientSHAP) on nsfwjs's pretrained MobileNetV2 (224×224, ReLU6, a softmax
 * fused into its last Dense layer), explaining its top class for the anatomy drawing, with DeepLift's
 * summation gap `Σ A − (logit(x) − logit(black))` against logits computed from the last layer's weights.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { deepLift, gradientShap, guidedBackprop, guidedGradCam, heatmap, saliency, type HeatmapOptions } from '../src/index';
import { writePng } from '../src/node/index';
import { loadMobileNetV2, NSFW_CLASSES } from './models/pretrained';
import { loadAnatomyDrawing } from './support/anatomy-drawing';

/** Signed maps, channels summed: blue below 0, white at 0, red above. */
const SIGNED: HeatmapOptions = { sign: 'all', colormap: 'bwr', clip: { percentile: 99.5 }, reduce: 'sum' };

interface Column {
  name: string;
  note: string;
  explain: (model: tfl.LayersModel, x: tf.Tensor, target: number, black: tf.Tensor) => Promise<tf.Tensor>;
}

const COLUMNS: Column[] = [
  { name: 'Saliency', note: 'signed gradient', explain: (m, x, target) => saliency(m, x, { target, abs: false }) },
  { name: 'Guided Backprop', note: 'ReLU6s pass back positive gradients only', explain: (m, x, target) => guidedBackprop(m, x, { target }) },
  { name: 'Guided Grad-CAM', note: 'the last 4-D layer (7×7)', explain: (m, x, target) => guidedGradCam(m, x, { target }) },
  { name: 'DeepLift', note: 'Rescale, black baseline, softmax left out', explain: (m, x, target, black) => deepLift(m, x, { target, baseline: black }) },
  {
    name: 'GradientSHAP',
    note: '8 samples, baselines black and white',
    explain: async (m, x, target, black) => {
      const baselines = tf.concat([black, tf.onesLike(black)]);
      try {
        return await gradientShap(m, x, { target, baselines, samples: 8, seed: 1 });
      } finally {
        baselines.dispose();
      }
    },
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
  // The target's logit from the last Dense layer's input features, kernel and bias.
  const classifier = model.layers.at(-1)!;
  const features = tfl.model({ inputs: model.inputs, outputs: classifier.input as tfl.SymbolicTensor });
  const [kernel, bias] = classifier.getWeights();
  const logit = (x: tf.Tensor) => tf.tidy(() => tf.add(tf.matMul(features.predict(x) as tf.Tensor2D, tf.slice(kernel, [0, target], [-1, 1])), tf.slice(bias, target, 1)));
  const delta = tf.tidy(() => tf.sub(logit(picture), logit(black)));
  const [logitDelta] = await delta.data();

  const input = tf.squeeze(picture);
  await writePng(join(outputDir, 'mobilenet-input.png'), input);
  const cells: string[] = [];
  const notes: string[] = [];
  let gap = NaN;
  for (const column of COLUMNS) {
    const started = performance.now();
    const attribution = await column.explain(model, picture, target, black);
    const seconds = (performance.now() - started) / 1000;
    const tile = tf.tidy(() => tf.squeeze(heatmap(attribution, SIGNED)));
    await writePng(join(outputDir, `${slug(column.name)}.png`), tile);
    if (column.name === 'DeepLift') {
      const total = tf.sum(attribution);
      gap = (await total.data())[0] - logitDelta;
      total.dispose();
    }
    cells.push(`<td><img src="${slug(column.name)}.png"></td>`);
    notes.push(`<tr><th>${column.name}</th><td>${column.note}</td><td>${seconds.toFixed(2)} s</td></tr>`);
    console.log(`MobileNetV2 ${column.name.padEnd(16)} ${seconds.toFixed(2)} s`);
    tf.dispose([attribution, tile]);
  }
  // kernel and bias are the model's own variables: model.dispose() frees them.
  tf.dispose([picture, input, black, probabilities, delta]);
  model.dispose();

  return `<h2>The gradient family on a pretrained MobileNetV2</h2>
<p>nsfwjs's MobileNetV2 (224×224, ReLU6, a softmax fused into its last Dense layer) explaining its top class
'${NSFW_CLASSES[target]}' (p = ${values[target].toFixed(3)}) for an anatomy drawing. Signed maps, channels summed, red raises the
class score. DeepLift explains the logit (the softmax is left out): its attributions sum to logit(x) − logit(black) =
${logitDelta.toFixed(4)} up to ${Math.abs(gap).toExponential(1)}.</p>
<table class="maps"><tr><th>input</th>${COLUMNS.map((c) => `<th title="${c.note}" style="width:224px">${c.name}</th>`).join('')}</tr>
<tr><td><img src="mobilenet-input.png"></td>${cells.join('')}</tr>
</table>
<table class="notes"><tr><th>method</th><th>settings</th><th>time for 1 image</th></tr>
${notes.join('\n')}
</table>`;
}
