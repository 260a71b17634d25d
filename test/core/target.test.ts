import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { saliency } from '../../src/index';
import { expectClose, expectRejectsWithoutLeak, seededTensor } from '../helpers';

describe('targets and model outputs', () => {
  const x = seededTensor([2, 3], 3);

  it('a single-output model needs no target; rank > 2 outputs are indexed flattened', async () => {
    const single = (v: tf.Tensor) => tf.sum(tf.square(v), 1, true);
    const map = await saliency(single, x, { abs: false });
    await expectClose(map, tf.mul(x, 2), 1e-6);
    // Output [N, 2, 3] = x ⊗ [1, 2]: flattened index 4 is 2·x_1, whose gradient is 2 at feature 1.
    const spatial = (v: tf.Tensor) => tf.mul(tf.expandDims(v, 1), tf.reshape(tf.tensor1d([1, 2]), [1, 2, 1]));
    const g = await saliency(spatial, x, { target: 4, abs: false });
    expect(Array.from(await g.data())).toEqual([0, 2, 0, 0, 2, 0]);
    // target: 0 (or one 0 per example) on a single-output model selects that output, with or without masks.
    const indexed = await saliency(single, x, { target: 0, abs: false });
    const perExample = await saliency(single, x, { target: [0, 0], abs: false });
    await expectClose(indexed, map, 1e-6);
    await expectClose(perExample, map, 1e-6);
    await expectRejectsWithoutLeak(() => saliency(single, x, { target: 1 }), /index 1 is out of range: the model gives 1 outputs/);
    [map, g, indexed, perExample].forEach((t) => t.dispose());
  });

  it('rejects models with several outputs or a wrong batch axis, and bad target functions', async () => {
    const two = (v: tf.Tensor) => [v, v] as unknown as tf.Tensor;
    await expectRejectsWithoutLeak(() => saliency(two, x, { target: 0 }), /options\.output: is required: the model has 2 outputs/);
    const batchless = (v: tf.Tensor) => tf.sum(v);
    await expectRejectsWithoutLeak(() => saliency(batchless, x, { target: 0 }), /the model returned shape \[\] for a batch of 1; expected the batch axis first/);
    const badTarget = () => tf.zeros([5]) as tf.Tensor1D;
    await expectRejectsWithoutLeak(() => saliency((v) => v, x, { target: badTarget }), /options\.target: the target function must return one score per row, shape \[1\], got a float32 tensor of shape \[5\]/);
    const matrix = tf.zeros([2, 2], 'int32');
    await expectRejectsWithoutLeak(() => saliency((v) => v, x, { target: matrix as never }), /options\.target: expected a rank-1 tensor/);
    await expectRejectsWithoutLeak(() => saliency((v) => v, x, { target: 1.5 }), /options\.target: expected a non-negative integer output index, got 1\.5/);
    matrix.dispose();
  });

  it('reports a GraphModel that needs executeAsync clearly', async () => {
    const dynamic = {
      predict: () => {
        throw new Error('This execution contains the node "while", which has the dynamic op "Enter". Please use model.executeAsync() instead.');
      },
    };
    await expectRejectsWithoutLeak(() => saliency(dynamic, x, { target: 0 }), /contains control-flow or dynamic ops.*cannot\s+differentiate/);
  });
});
