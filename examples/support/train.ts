/**
 * Training helpers for the example experiments: softmax cross-entropy on logits with Adam, and test
 * accuracy. Training runs inside the package's backend-gap scope with exact filter gradients, because
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` / `DepthwiseConv2dNativeBackpropFilter` kernels
 * (and tfjs-backend-cpu's are very slow); the scope builds them from kernels the backend has.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { withBackendGapFixes } from '../../src/core/backend-gaps';

/** Trains `model` (which outputs logits) on one-hot labels; returns the loss per epoch. */
export async function trainClassifier(
  model: tfl.LayersModel,
  [x, y]: [tf.Tensor, tf.Tensor],
  { epochs, batchSize = 32, learningRate = 2e-3 }: { epochs: number; batchSize?: number; learningRate?: number },
): Promise<number[]> {
  model.compile({
    optimizer: tf.train.adam(learningRate),
    loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits),
  });
  const history = await withBackendGapFixes(() => model.fit(x, y, { epochs, batchSize, verbose: 0, shuffle: true }), {
    zeroFilterGradients: false,
  });
  return history.history.loss as number[];
}

/** Fraction of examples whose largest logit is their one-hot label's class. */
export async function testAccuracy(model: tfl.LayersModel, [x, y]: [tf.Tensor, tf.Tensor]): Promise<number> {
  const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1));
  const truth = tf.tidy(() => tf.argMax(y, 1));
  const [p, t] = [Array.from(await predicted.data()), await truth.data()];
  tf.dispose([predicted, truth]);
  return p.reduce((hits, v, i) => hits + (v === t[i] ? 1 : 0), 0) / p.length;
}
