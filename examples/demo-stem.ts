/**
 * The demo's EdgeFilterStem section: a stem CNN trained on coloured stripes (class = colour ×
 * orientation), one test image per class explained with `stemScores` (LRP, composite
 * 'epsilon-plus-flat', normalised by the total relevance): the share of relevance per colour and per
 * edge filter, and the pixel map pushed through the stem. Writes PNGs into `outputDir` and returns the
 * section's HTML.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type EdgeFilterStem, heatmap, stemScores } from '../src/index';
import { writePng } from '../src/node/index';
import { STEM_CLASSES, trainedStemCnn } from './stem-cnn';

const COLOUR_NAMES = ['red', 'green', 'blue'];
const BAR_COLOURS = ['#d62728', '#2ca02c', '#1f77b4'];

export async function stemScoresSection(outputDir: string, cacheDir: string): Promise<string> {
  const { model, accuracy, test } = await trainedStemCnn(cacheDir);
  const picks = STEM_CLASSES.map((_, k) => test.labels.findIndex((label) => label === k));
  const target = picks.map((i) => test.labels[i]);
  const x = tf.gather(test.x, picks);
  const started = performance.now();
  const scores = await stemScores(model, x, { target, normalize: true });
  const seconds = (performance.now() - started) / 1000;
  const stem = model.getLayer('stem') as EdgeFilterStem;

  const upscale = (images: tf.Tensor) => tf.image.resizeNearestNeighbor(images as tf.Tensor4D, [96, 96]);
  const inputs = tf.tidy(() => tf.unstack(upscale(x)));
  const maps = tf.tidy(() => tf.unstack(upscale(heatmap(tf.expandDims(scores.pixel, 3), { sign: 'all', colormap: 'bwr', clip: { percentile: 99 } }))));
  for (let i = 0; i < picks.length; i++) {
    await writePng(join(outputDir, `stem-input-${i}.png`), inputs[i]);
    await writePng(join(outputDir, `stem-pixel-${i}.png`), maps[i]);
  }
  const [colour, filter] = [await scores.colour.array(), await scores.filter.array()];
  const bars = (shares: number[], labels: string[], colours: (i: number) => string) =>
    shares
      .map((share, i) => {
        const width = Math.max(0, Math.round(120 * share));
        return `<div class="bar"><span>${labels[i]}</span><i style="width:${width}px;background:${colours(i)}"></i>${(100 * share).toFixed(0)}%</div>`;
      })
      .join('');
  const rows = picks.map((_, i) =>
    [
      `<td><img src="stem-input-${i}.png"><br>${STEM_CLASSES[target[i]]}</td>`,
      `<td><img src="stem-pixel-${i}.png"></td>`,
      `<td>${bars(colour[i], COLOUR_NAMES, (c) => BAR_COLOURS[c])}</td>`,
      `<td>${bars(filter[i], stem.filterLabels, () => '#555')}</td>`,
    ].join(''),
  );
  [x, ...inputs, ...maps, scores.colour, scores.filter, scores.pixel, test.x, test.y].forEach((t) => t.dispose());
  model.dispose();
  console.log(`${'stemScores'.padEnd(22)} ${seconds.toFixed(2)} s`);
  return `<h2>Which colour, which edge? EdgeFilterStem scores</h2>
<p>A CNN behind a fixed <code>EdgeFilterStem</code> (identity, Sobel x/y, Prewitt x/y, Laplacian on every colour), trained to tell
the colour and orientation of stripes (6 classes, test accuracy ${(100 * accuracy).toFixed(1)}%). <code>stemScores</code> splits the
LRP relevance of the true class (composite 'epsilon-plus-flat') into a share per colour, a share per filter and a pixel map
(${seconds.toFixed(2)} s for ${picks.length} images). Vertical stripes change along x and should be read by the x filters,
horizontal ones by the y filters; the deciding colour should carry the relevance.</p>
<table><tr><th>input</th><th>pixel map</th><th>colour share</th><th>filter share</th></tr>
${rows.map((r) => `<tr>${r}</tr>`).join('\n')}
</table>`;
}
