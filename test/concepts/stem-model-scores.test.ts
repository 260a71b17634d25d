import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  composites,
  EdgeFilterStem,
  type FilterName,
  layers,
  lrp,
  rules,
  stemInputRelevance,
  stemScores,
  stemScoresFromRelevance,
} from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const [N, H, W, C] = [2, 6, 6, 3];
const FILTERS: FilterName[] = ['identity', 'sobel-x', 'sobel-y', 'laplacian'];
const F = FILTERS.length;
const CLASSES = 3;

/** stem → conv(relu, no bias) → global average pooling → dense (no bias): a ReLU net without biases. */
function stemModel(seed = 5): { model: tfl.LayersModel; stem: EdgeFilterStem; head: tfl.LayersModel } {
  const stem = layers.edgeFilterStem({ filters: FILTERS, inputShape: [H, W, C], name: 'stem' }) as EdgeFilterStem;
  const head = tfl.sequential({
    name: 'head',
    layers: [
      tfl.layers.conv2d({ inputShape: [H, W, C * F], filters: 5, kernelSize: 3, activation: 'relu', useBias: false, name: 'conv' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: CLASSES, useBias: false, name: 'logits' }),
    ],
  });
  setSeededWeights(head, seed);
  const model = tfl.sequential({ layers: [stem, head] });
  return { model, stem, head };
}

/** Gradient × input at the stem output, computed with autodiff on the head alone (LRP-0 must equal it). */
function gradientTimesStemOutput(stem: EdgeFilterStem, head: tfl.LayersModel, x: tf.Tensor, target: number): tf.Tensor4D {
  return tf.tidy(() => {
    const s = stem.apply(x) as tf.Tensor4D;
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(head.predict(t) as tf.Tensor2D, [0, target], [-1, 1])))(s);
    return tf.mul(s, g) as tf.Tensor4D;
  });
}

async function plainSums(r: tf.Tensor4D): Promise<{ colour: number[]; filter: number[] }> {
  const v = await r.data();
  const colour = new Array(N * C).fill(0);
  const filter = new Array(N * F).fill(0);
  for (let n = 0; n < N; n++)
    for (let p = 0; p < H * W; p++)
      for (let c = 0; c < C; c++)
        for (let f = 0; f < F; f++) {
          const value = v[(n * H * W + p) * C * F + c * F + f];
          colour[n * C + c] += value;
          filter[n * F + f] += value;
        }
  return { colour, filter };
}

describe('stemScores', () => {
  it('equals the plain sums of gradient × input at the stem output under LRP-0, and conserves the logit', async () => {
    const { model, stem, head } = stemModel();
    const x = seededTensor([N, H, W, C], 31);
    const target = 1;
    const scores = await expectNoLeak(() => stemScores(model, x, { target, composite: 'epsilon', epsilon: 0 }));
    expect(scores.colour.shape).toEqual([N, C]);
    expect(scores.filter.shape).toEqual([N, F]);
    expect(scores.pixel.shape).toEqual([N, H, W]);
    const reference = gradientTimesStemOutput(stem, head, x, target);
    const expected = await plainSums(reference);
    await expectClose(scores.colour, expected.colour, 1e-4);
    await expectClose(scores.filter, expected.filter, 1e-4);
    const expectedPixel = tf.tidy(() => tf.sum(stemInputRelevance(reference, stem), 3));
    await expectClose(scores.pixel, expectedPixel, 1e-4);
    // Conservation: Σ S_c = Σ S_f = Σ P = f_c(x) for a ReLU network without biases.
    const logits = (await (model.predict(x) as tf.Tensor).data()) as Float32Array;
    const totals = async (t: tf.Tensor): Promise<number[]> => Array.from(await tf.sum(tf.reshape(t, [N, -1]), 1).data());
    for (const part of [scores.colour, scores.filter, scores.pixel]) {
      (await totals(part)).forEach((s, n) => expect(s).toBeCloseTo(logits[n * CLASSES + target], 3));
    }
    tf.dispose([x, reference, expectedPixel, scores.colour, scores.filter, scores.pixel]);
  });

  it('is lrp at the stem output summed by stemScoresFromRelevance, with normalize passed through', async () => {
    const { model, stem } = stemModel(6);
    const x = seededTensor([N, H, W, C], 32);
    const scores = await stemScores(model, x, { target: [0, 2], normalize: true, batchSize: 1 });
    const relevance = await lrp(model, x, { target: [0, 2], layer: 'stem' });
    const expected = stemScoresFromRelevance(relevance, stem, { normalize: true });
    for (const key of ['colour', 'filter', 'pixel'] as const) await expectClose(scores[key], expected[key], 1e-5);
    tf.dispose([x, relevance, ...Object.values(scores), ...Object.values(expected)]);
  });

  it('makes the stem the first layer: under epsilon-plus-flat the conv after it gets ZPlus, not Flat', async () => {
    const { model } = stemModel(7);
    const x = seededTensor([N, H, W, C], 33);
    const atStem = await lrp(model, x, { target: 0, composite: 'epsilon-plus-flat', layer: 'stem' });
    const plus = await lrp(model, x, { target: 0, composite: composites.epsilonPlus(), layer: 'stem' });
    const flatOnConv = await lrp(model, x, { target: 0, composite: 'epsilon-plus-flat', layer: 'stem', layerRules: { byName: { conv: rules.flat() } } });
    await expectClose(atStem, plus, 1e-6);
    const distance = tf.tidy(() => tf.sum(tf.abs(tf.sub(atStem, flatOnConv))).dataSync()[0]);
    expect(distance).toBeGreaterThan(1e-3);
    tf.dispose([x, atStem, plus, flatOnConv]);
  });

  it('gives the stem the WSquare rule in lrp by default; layerRules override it', async () => {
    const { model, stem } = stemModel(8);
    const x = seededTensor([N, H, W, C], 34);
    const input = await expectNoLeak(() => lrp(model, x, { target: 2 }));
    const atStem = await lrp(model, x, { target: 2, layer: 'stem' });
    const pushed = stemInputRelevance(atStem, stem);
    await expectClose(input, pushed, 1e-5);
    // The plain gradient rule instead: R_in = Wᵀ R, the transposed convolution of the stem's kernel.
    const routed = await lrp(model, x, { target: 2, layerRules: { byClass: { EdgeFilterStem: rules.gradient() } } });
    const kernel = stem.kernel();
    const transposed = tf.conv2dTranspose(atStem as tf.Tensor4D, kernel, [N, H, W, C], 1, 'same');
    await expectClose(routed, transposed, 1e-5);
    tf.dispose([x, input, atStem, pushed, routed, kernel, transposed]);
  });

  it('finds the stem inside a nested model, or by name among several', async () => {
    const { model } = stemModel(9);
    const inputs = tfl.input({ shape: [H, W, C] });
    const outer = tfl.model({ inputs, outputs: model.apply(inputs) as tfl.SymbolicTensor });
    const x = seededTensor([N, H, W, C], 35);
    const nested = await stemScores(outer, x, { target: 1 });
    const direct = await stemScores(model, x, { target: 1, stem: 'stem' });
    for (const key of ['colour', 'filter', 'pixel'] as const) await expectClose(nested[key], direct[key], 1e-6);
    tf.dispose([x, ...Object.values(nested), ...Object.values(direct)]);
  });

  it('rejects models without a stem, ambiguous and unknown stems and relevanceAt, leaking nothing', async () => {
    const x = seededTensor([N, H, W, C], 36);
    const plain = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [H, W, C] }), tfl.layers.dense({ units: 2 })] });
    await expectRejectsWithoutLeak(() => stemScores(plain, x, { target: 0 }), /model.*needs a model with an EdgeFilterStem layer; model ".*" has none/);
    const inputs = tfl.input({ shape: [H, W, C] });
    const a = layers.edgeFilterStem({ filters: ['identity'], name: 'stem_a' }).apply(inputs) as tfl.SymbolicTensor;
    const b = layers.edgeFilterStem({ filters: ['sobel-x'], name: 'stem_b' }).apply(inputs) as tfl.SymbolicTensor;
    const merged = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(merged)) as tfl.SymbolicTensor;
    const two = tfl.model({ inputs, outputs: out });
    await expectRejectsWithoutLeak(() => stemScores(two, x, { target: 0 }), /options.stem.*2 EdgeFilterStem layers \("stem_a", "stem_b"\); name one/);
    await expectRejectsWithoutLeak(() => stemScores(two, x, { target: 0, stem: 'stem_c' }), /options.stem.*no EdgeFilterStem named "stem_c".*"stem_a", "stem_b"/);
    await expectRejectsWithoutLeak(() => stemScores(two, x, { target: 0, relevanceAt: 'stem_a' } as never), /options.relevanceAt/);
    await expectRejectsWithoutLeak(() => stemScores({} as never, x, { target: 0 }), /model.*tf.LayersModel/);
    await expectRejectsWithoutLeak(() => stemScores(two, x, { target: 5, stem: 'stem_b' }), /target/);
    const scores = await expectNoLeak(() => stemScores(two, x, { target: 1, stem: 'stem_b' }));
    expect(scores.filter.shape).toEqual([N, 1]);
    tf.dispose([x, ...Object.values(scores)]);
  });
});
