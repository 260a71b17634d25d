/**
 * LIME with Captum's defaults: the whole pipeline recomputed in plain JS (seeded coalitions, perturbed
 * inputs, cosine-kernel weights, float64 Lasso), near the linear model's weights up to the shrinkage;
 * determinism, batch independence, token ids, leaks, abort and bad input.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { lime } from '../../src/index';
import { limeCoalition } from '../../src/attribution/perturbation/lime';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights, smoothMlp } from '../helpers/models';
import { lassoReference } from './surrogate-reference';

describe('lime', () => {
  it('is the weighted Lasso (α = 0.01) on its seeded coalitions with cosine-kernel weights, recomputed in float64', async () => {
    const x = seededTensor([2, 8], 1);
    const weights = seededTensor([1, 8], 2, 2);
    const model = (v: tf.Tensor) => tf.add(tf.reshape(tf.sum(tf.mul(v, weights), 1), [-1, 1]), 0.3);
    const ids = [0, 0, 1, 1, 2, 2, 3, 3];
    const [samples, seed, base] = [80, 3, 0.1];
    const result = await expectNoLeak(() => lime(model, x, { featureMask: ids, samples, seed, baseline: base, batchSize: 32 }));
    const [xs, ws] = [await x.data(), await weights.data()];
    const expected: number[] = [];
    for (const e of [0, 1]) {
      const row = Array.from(xs.slice(8 * e, 8 * e + 8));
      const z: number[][] = [];
      const y: number[] = [];
      const w: number[] = [];
      for (let s = 0; s < samples; s++) {
        const coalition = new Float32Array(4);
        limeCoalition(4, seed, s, coalition, 0);
        const perturbed = row.map((v, j) => (coalition[ids[j]] === 1 ? v : base));
        const dot = perturbed.reduce((p, v, j) => p + v * row[j], 0);
        const norms = Math.hypot(...perturbed) * Math.hypot(...row);
        const distance = 1 - dot / Math.max(norms, 1e-8);
        z.push(Array.from(coalition));
        y.push(perturbed.reduce((p, v, j) => p + v * ws[j], 0.3));
        w.push(Math.exp(-(distance ** 2) / 2));
      }
      const { coefficients } = lassoReference(z, y, w, 0.01);
      expected.push(...ids.map((id) => coefficients[id]));
      // The surrogate recovers each group's w ⊙ (x − b) sum up to the L1 shrinkage.
      const truth = [0, 1, 2, 3].map((g) => ids.reduce((p, id, j) => (id === g ? p + ws[j] * (row[j] - base) : p), 0));
      truth.forEach((t, g) => expect(Math.abs(coefficients[g] - t)).toBeLessThan(0.1));
    }
    // At the default tolerance (scikit-learn's 1e-4 on the duality gap) the coefficients are within ~1e-4.
    await expectClose(result, expected, 5e-4);
    [x, weights, result].forEach((t) => t.dispose());
  });

  it('does not depend on batchSize or on the batch, takes token ids, aborts without leaks, rejects bad input', async () => {
    const model = smoothMlp(5, 2, 4);
    const x = seededTensor([2, 5], 5);
    const a = await lime(model, x, { target: 1, samples: 30, seed: 6, batchSize: 7 });
    const b = await lime(model, x, { target: 1, samples: 30, seed: 6 });
    await expectClose(a, b, 1e-5);
    const second = tf.slice(x, 1, 1);
    const alone = await lime(model, second, { target: 1, samples: 30, seed: 6 });
    await expectClose(alone, tf.slice(a, 1, 1), 1e-5);
    const embedding = setSeededWeights(
      tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: 8, outputDim: 2, inputLength: 3 }), tfl.layers.flatten(), tfl.layers.dense({ units: 1 })] }),
      7,
    );
    const ids = tf.tensor2d([[1, 4, 6]], undefined, 'int32');
    const tokens = await expectNoLeak(() => lime(embedding, ids, { samples: 20, seed: 8 }));
    expect(tokens.shape).toEqual([1, 3]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => lime(model, x, { target: 1, samples: 30, batchSize: 8, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    await expectRejectsWithoutLeak(() => lime(model, x, { target: 1, samples: 0 }), /options\.samples: expected an integer >= 1, got 0/);
    await expectRejectsWithoutLeak(() => lime(model, x, { target: 1, kernelWidth: 2 } as never), /options\.kernelWidth: unknown option/);
    const large = tf.zeros([1, 65, 65]);
    await expectRejectsWithoutLeak(() => lime((v: tf.Tensor) => tf.reshape(tf.sum(v, [1, 2]), [-1, 1]), large), /options\.featureMask: LIME fits one coefficient per feature group .* 4225 groups are too many \(at most 4096\)/);
    large.dispose();
    [x, a, b, second, alone, ids, tokens].forEach((t) => t.dispose());
    model.dispose();
    embedding.dispose();
  });
});
