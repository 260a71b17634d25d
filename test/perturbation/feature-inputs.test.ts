/**
 * Several inputs: every feature-group method on a model of two inputs equals the same method on the
 * equivalent model of their concatenation, with the ids shared across the inputs (Captum's convention)
 * and a baseline per input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { featureAblation, featurePermutation, kernelShap, lime, shapleyValueSampling } from '../../src/index';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';

describe('feature-group methods on several inputs', () => {
  it('equal the method on the concatenated input, for ablation, permutation, Shapley sampling, KernelSHAP and LIME', async () => {
    const weights = seededTensor([7, 2], 1, 0.8);
    const joint = (v: tf.Tensor) => tf.tanh(tf.matMul(v, weights));
    const pair = (a: tf.Tensor, b: tf.Tensor) => joint(tf.concat([a, tf.reshape(b, [-1, 4])], 1));
    const x = seededTensor([3, 7], 2);
    const a = tf.slice(x, [0, 0], [-1, 3]);
    const b = tf.reshape(tf.slice(x, [0, 3], [-1, 4]), [3, 2, 2]);
    const masks = [[0, 1, 2], [[2, 3], [5, 5]]];
    const jointMask = [0, 1, 2, 2, 3, 5, 5];
    const perChannel = tf.tensor1d([0.25, -0.5]);
    const jointBaseline = tf.tensor2d([[0.1, 0.1, 0.1, 0.25, -0.5, 0.25, -0.5]]);
    const common = { target: 1, batchSize: 5 };
    const methods: [string, (model: never, input: never, options: object) => Promise<unknown>, object, object][] = [
      ['featureAblation', featureAblation as never, { baseline: [0.1, perChannel] }, { baseline: jointBaseline }],
      ['featurePermutation', featurePermutation as never, { seed: 3 }, { seed: 3 }],
      ['shapleyValueSampling', shapleyValueSampling as never, { samples: 4, seed: 3, baseline: [0.1, perChannel] }, { samples: 4, seed: 3, baseline: jointBaseline }],
      ['kernelShap', kernelShap as never, { samples: 24, seed: 3, baseline: [0.1, perChannel] }, { samples: 24, seed: 3, baseline: jointBaseline }],
      ['lime', lime as never, { samples: 24, seed: 3, baseline: [0.1, perChannel] }, { samples: 24, seed: 3, baseline: jointBaseline }],
    ];
    for (const [name, method, split, together] of methods) {
      const [pa, pb] = (await expectNoLeak(() => method(pair as never, [a, b] as never, { ...common, ...split, featureMask: masks }))) as tf.Tensor[];
      expect([name, pa.shape, pb.shape]).toEqual([name, [3, 3], [3, 2, 2]]);
      const whole = (await method(joint as never, x as never, { ...common, ...together, featureMask: jointMask })) as tf.Tensor;
      const glued = tf.concat([pa, tf.reshape(pb, [3, 4])], 1);
      await expectClose(glued, whole, 1e-5);
      [pa, pb, whole, glued].forEach((t) => t.dispose());
    }
    [weights, x, a, b, perChannel, jointBaseline].forEach((t) => t.dispose());
  });
});
