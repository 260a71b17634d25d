/** Small deterministic models for tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { seededTensor } from './index';

/** Gives every weight of `model` deterministic values in [-scale, scale). */
export function setSeededWeights(model: tfl.LayersModel, seed = 1, scale = 0.5): tfl.LayersModel {
  const weights = model.getWeights().map((w, i) => tf.tidy(() => seededTensor(w.shape, seed * 1000 + i, scale)));
  model.setWeights(weights);
  weights.forEach((w) => w.dispose());
  return model;
}

/** A smooth classifier: Dense(tanh) → Dense(softplus) → Dense(classes) on vectors of `inputDim`. */
export function smoothMlp(inputDim = 6, classes = 3, seed = 1): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [inputDim], units: 8, activation: 'tanh' }),
      tfl.layers.dense({ units: 8, activation: 'softplus' }),
      tfl.layers.dense({ units: classes }),
    ],
  });
  return setSeededWeights(model, seed, 0.8);
}

/** A small image classifier with conv, depthwise, pooling, batch norm and relu6 (NHWC 8×8×3). */
export function smallConvNet(seed = 2, classes = 4): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 1 }),
      tfl.layers.batchNormalization(),
      tfl.layers.activation({ activation: 'softplus' }),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'linear' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: classes }),
    ],
  });
  setSeededWeights(model, seed, 0.6);
  // Batch-norm variances must stay positive.
  const bn = model.layers[2];
  const [gamma, beta, mean] = bn.getWeights();
  const variance = tf.tidy(() => tf.add(tf.abs(seededTensor([4], seed + 7, 0.5)), 0.5));
  bn.setWeights([gamma, beta, mean, variance]);
  variance.dispose();
  return model;
}

/** `f(x) = x·w + b` on flattened features, as a plain function model with one output. */
export function linearFunction(weights: tf.Tensor1D, bias: number): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]), tf.reshape(weights, [-1, 1])), bias);
}
