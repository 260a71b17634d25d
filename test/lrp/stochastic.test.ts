/**
 * Stochastic layers under attribution: within one call a SpatialShuffle uses one permutation per
 * example for every forward pass (the row context), LRP routes relevance through that permutation,
 * stemScores works on the layers guide's stem + shuffle model, and IG on such a model is complete when
 * the model runs inside a row context.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { integratedGradients, integratedGradientsDelta, layers, lrp, rules, stemScores, type FilterName } from '../../src/index';
import { withRowContext } from '../../src/advanced';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const FILTERS: FilterName[] = ['identity', 'sobel-x', 'sobel-y'];

/** The layers guide's headline model, small: stem → conv → shuffle → conv → GAP → dense. */
function stemShuffleModel(activation: 'relu' | 'softplus', useBias: boolean, seed = 61): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      layers.edgeFilterStem({ inputShape: [6, 6, 3], filters: FILTERS, name: 'stem' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation, useBias, name: 'before' }),
      layers.spatialShuffle({ seed: 1, name: 'shuffle' }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation, useBias, name: 'after' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, useBias, name: 'logits' }),
    ],
  });
  return setSeededWeights(model, seed, 0.5);
}

describe('LRP through a SpatialShuffle', () => {
  const model = stemShuffleModel('relu', false);
  const x = () => seededTensor([2, 6, 6, 3], 62, 1);
  const target = [1, 2];
  const context = { seed: 77, examples: Int32Array.from([0, 1]) };

  it('LRP-0 equals gradient × input under the call’s permutations, and relevance is conserved', async () => {
    const input = x();
    // The stem's own rule is WSquare; LRP-0 there too makes the whole map gradient × input.
    const relevance = await expectNoLeak(() =>
      lrp(model, input, { target, composite: 'epsilon', epsilon: 0, seed: 77, layerRules: { byName: { stem: rules.epsilon({ epsilon: 0 }) } } }),
    );
    const [reference, scores] = withRowContext(context, () =>
      tf.tidy(() => {
        const onehot = tf.oneHot(tf.tensor1d(target, 'int32'), 3);
        const f = (v: tf.Tensor) => tf.sum(tf.mul(model.apply(v) as tf.Tensor, onehot));
        return [tf.mul(input, tf.grad(f)(input)), tf.sum(tf.mul(model.apply(input) as tf.Tensor, onehot), 1)];
      }),
    );
    await expectClose(relevance, reference, 1e-4);
    const sums = tf.sum(relevance, [1, 2, 3]);
    await expectClose(sums, scores, 1e-4);
    [input, relevance, reference, scores, sums].forEach((t) => t.dispose());
  });

  it('routes relevance through the same permutation: shuffling the relevance at its input gives the relevance at its output', async () => {
    const input = x();
    const options = { target, composite: 'epsilon-plus' as const, seed: 77 };
    const atInput = await lrp(model, input, { ...options, layer: 'before' });
    const atOutput = await lrp(model, input, { ...options, layer: 'shuffle' });
    const shuffled = withRowContext(context, () => model.getLayer('shuffle').apply(atInput) as tf.Tensor);
    await expectClose(shuffled, atOutput, 1e-6);
    // The same seed gives the same map; another seed draws other permutations.
    const again = await lrp(model, input, { ...options, layer: 'before' });
    const other = await lrp(model, input, { ...options, layer: 'before', seed: 78 });
    await expectClose(again, atInput, 0);
    expect(Math.max(...Array.from(await tf.abs(tf.sub(other, atInput)).data()))).toBeGreaterThan(1e-4);
    [input, atInput, atOutput, shuffled, again, other].forEach((t) => t.dispose());
  });

  it('stemScores works on the stem + shuffle model and conserves the logit (LRP-0, no biases)', async () => {
    const input = x();
    const { colour, filter, pixel } = await expectNoLeak(() => stemScores(model, input, { target, composite: 'epsilon', epsilon: 0, seed: 77 }));
    const scores = withRowContext(context, () =>
      tf.tidy(() => tf.sum(tf.mul(model.apply(input) as tf.Tensor, tf.oneHot(tf.tensor1d(target, 'int32'), 3)), 1)),
    );
    for (const part of [tf.sum(colour, 1), tf.sum(filter, 1), tf.sum(pixel, [1, 2])]) {
      await expectClose(part, scores, 1e-4);
      part.dispose();
    }
    [input, colour, filter, pixel, scores].forEach((t) => t.dispose());
  });
});

describe('Integrated Gradients on a stem + shuffle model, run inside a row context', () => {
  it('is complete to 1e-3 (relative) when every row of the example shares the permutation', async () => {
    const model = stemShuffleModel('softplus', true, 63);
    const x = seededTensor([1, 6, 6, 3], 64, 1);
    const inContext = (v: tf.Tensor): tf.Tensor => withRowContext({ seed: 9, examples: new Int32Array(v.shape[0]) }, () => model.apply(v) as tf.Tensor);
    const ig = await integratedGradients(inContext, x, { target: 2, steps: 64 });
    const delta = await integratedGradientsDelta(inContext, x, ig, { target: 2 });
    const difference = tf.tidy(() => {
      const scores = tf.slice(inContext(tf.concat([x, tf.zerosLike(x)])), [0, 2], [2, 1]);
      return tf.sub(tf.slice(scores, 0, 1), tf.slice(scores, 1, 1));
    });
    const gap = Math.abs((await delta.data())[0]) / Math.abs((await difference.data())[0]);
    expect(gap).toBeLessThan(1e-3);
    [x, ig, delta, difference].forEach((t) => t.dispose());
  });
});
