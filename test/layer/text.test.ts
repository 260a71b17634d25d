/**
 * Token-id models: layer IG at the Embedding's output with int32 ids and a padding-id baseline, per-token
 * scores by `tokenAttributions`, against the closed form of a linear text model and completeness on a
 * non-linear one; methods that would differentiate or interpolate ids refuse them.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { layerConductance, layerIntegratedGradients, neuronIntegratedGradients, tokenAttributions } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const [VOCABULARY, DIM, T] = [12, 3, 5];
const IDS = [
  [3, 7, 1, 0, 0],
  [11, 2, 2, 9, 4],
];

function textModel(middle: tfl.layers.Layer[], seed: number): tfl.LayersModel {
  return setSeededWeights(
    tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: VOCABULARY, outputDim: DIM, inputLength: T, name: 'tokens' }),
        ...middle,
        tfl.layers.globalAveragePooling1d({}),
        tfl.layers.dense({ units: 2, name: 'logits' }),
      ],
    }),
    seed,
    0.9,
  );
}

describe('text models through the Embedding', () => {
  it('layer IG of embedding → average → dense is (E[id] − E[pad]) ⊙ w_c / T; per-token sums are complete', async () => {
    const model = textModel([], 61);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const lig = await expectNoLeak(() => layerIntegratedGradients(model, ids, { layer: 'tokens', target: 1, steps: 4 }));
    expect(lig.shape).toEqual([2, T, DIM]);
    const table = await model.getLayer('tokens').getWeights()[0].data();
    const kernel = await model.getLayer('logits').getWeights()[0].data();
    const expected = IDS.flatMap((row) => row.flatMap((id) => Array.from({ length: DIM }, (_, d) => ((table[id * DIM + d] - table[d]) * kernel[d * 2 + 1]) / T)));
    await expectClose(lig, expected, 1e-5);
    const perToken = tokenAttributions(lig);
    expect(perToken.shape).toEqual([2, T]);
    const tokenValues = await perToken.data();
    // Padding tokens equal to the baseline's get exactly 0.
    expect([tokenValues[3], tokenValues[4]]).toEqual([0, 0]);
    const difference = tf.tidy(() => {
      const score = (v: tf.Tensor) => tf.slice(model.predict(v) as tf.Tensor, [0, 1], [-1, 1]);
      return tf.reshape(tf.sub(score(ids), score(tf.zerosLike(ids))), [-1]);
    });
    await expectClose(tf.sum(perToken, 1), difference, 1e-5);
    tf.dispose([ids, lig, perToken, difference]);
    model.dispose();
  });

  it('a non-linear text model is complete for a reference text given as ids', async () => {
    const model = textModel([tfl.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'ngrams' })], 63);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const reference = tf.tensor2d([[1, 1, 1, 1, 1]], undefined, 'int32');
    const lig = await expectNoLeak(() => layerIntegratedGradients(model, ids, { layer: 'tokens', target: 0, steps: 32, baseline: reference }));
    const [sums, difference] = tf.tidy(() => {
      const score = (v: tf.Tensor) => tf.reshape(tf.slice(model.predict(v) as tf.Tensor, [0, 0], [-1, 1]), [-1]);
      return [tf.sum(tokenAttributions(lig), 1), tf.sub(score(ids), score(tf.tile(reference, [2, 1])))];
    });
    await expectClose(sums, difference, 1e-4);
    tf.dispose([ids, reference, lig, sums, difference]);
    model.dispose();
  });

  it('takes sentences whose length is fixed only at run time', async () => {
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const embedded = tfl.layers.embedding({ inputDim: VOCABULARY, outputDim: DIM, name: 'words' }).apply(ids) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2 }).apply(tfl.layers.globalAveragePooling1d({}).apply(embedded)) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: ids, outputs: output }), 67, 0.9);
    const sentence = tf.tensor2d([[4, 5, 6]], undefined, 'int32');
    const lig = await expectNoLeak(() => layerIntegratedGradients(model, sentence, { layer: 'words', target: 0, steps: 2 }));
    expect(lig.shape).toEqual([1, 3, DIM]);
    const [sums, difference] = tf.tidy(() => {
      const score = (v: tf.Tensor) => tf.reshape(tf.slice(model.predict(v) as tf.Tensor, [0, 0], [-1, 1]), [-1]);
      return [tf.sum(tokenAttributions(lig), 1), tf.sub(score(sentence), score(tf.zerosLike(sentence)))];
    });
    await expectClose(sums, difference, 1e-5);
    tf.dispose([sentence, lig, sums, difference]);
    model.dispose();
  });

  it('refuses to interpolate or differentiate token ids, pointing to layer IG; tokenAttributions checks its input', async () => {
    const model = textModel([], 65);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const pointer = /Embedding layer "tokens": its values are token ids.*layerIntegratedGradients\(model, ids, \{ layer: 'tokens'/;
    await expectRejectsWithoutLeak(() => layerConductance(model, ids, { layer: 'logits', target: 0 }), pointer);
    await expectRejectsWithoutLeak(() => neuronIntegratedGradients(model, ids, { layer: 'logits', neuron: [0] }), pointer);
    const flat = tf.zeros([2, 5]);
    expect(() => tokenAttributions(flat)).toThrow(/attribution: expected an attribution at an embedding's output, \[N, tokens, embedding size\], got a float32 tensor of shape \[2, 5\]/);
    tf.dispose([ids, flat]);
    model.dispose();
  });
});
