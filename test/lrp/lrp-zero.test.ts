/**
 * LRP-0 on ReLU networks without biases equals gradient × input, and relevance is conserved
 * (Σ R_in = f_c(x)), through dense, conv, depthwise, transposed conv, 1-D conv, pooling, padding,
 * cropping, reshapes, residual Add, Concatenate, a layer used twice and a nested model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { gradientXInput, lrp } from '../../src/index';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';
import { convReluNet, denseReluNet, residualNet, sequenceNet } from './models';

async function checkLrpZero(model: tfl.LayersModel, x: tf.Tensor, target: number[]): Promise<void> {
  const relevance = await expectNoLeak(() => lrp(model, x, { target, composite: 'epsilon', epsilon: 0 }));
  const reference = await gradientXInput(model, x, { target });
  await expectClose(relevance, reference, 1e-4);
  const [sums, scores] = tf.tidy(() => {
    const logits = model.predict(x) as tf.Tensor2D;
    const chosen = tf.sum(tf.mul(logits, tf.oneHot(tf.tensor1d(target, 'int32'), logits.shape[1])), 1);
    return [tf.sum(tf.reshape(relevance, [x.shape[0], -1]), 1), chosen];
  });
  await expectClose(sums, scores, 1e-4);
  // Not a vacuous check: the relevance is spread over many features.
  expect((await tf.tidy(() => tf.sum(tf.cast(tf.notEqual(relevance, 0), 'float32'))).data())[0]).toBeGreaterThan(x.size / 4);
  [relevance, reference, sums, scores].forEach((t) => t.dispose());
}

describe('LRP-0 on ReLU networks without biases', () => {
  it('equals gradient × input and conserves relevance: dense', async () => {
    const x = seededTensor([3, 6], 11, 2);
    await checkLrpZero(denseReluNet(), x, [0, 2, 1]);
    x.dispose();
  });

  it('equals gradient × input and conserves relevance: conv, depthwise, pooling, padding, cropping, reshapes', async () => {
    const x = seededTensor([2, 8, 8, 2], 12, 1.5);
    await checkLrpZero(convReluNet(), x, [1, 2]);
    x.dispose();
  });

  it('equals gradient × input and conserves relevance: 1-D convolutions and pooling', async () => {
    const x = seededTensor([2, 12, 2], 13, 1.5);
    await checkLrpZero(sequenceNet(), x, [1, 0]);
    x.dispose();
  });

  it('equals gradient × input and conserves relevance: residual Add, Concatenate, shared and nested layers', async () => {
    const x = seededTensor([2, 6, 6, 2], 14, 1.5);
    await checkLrpZero(residualNet(), x, [2, 0]);
    x.dispose();
  });
});
