/** Small random networks for the LRP tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const noBias = { useBias: false };

/** Dense ReLU network without biases: 6 → 8 → 7 → 3. */
export function denseReluNet(seed = 1): tfl.LayersModel {
  return setSeededWeights(
    tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 8, activation: 'relu', ...noBias }),
        tfl.layers.dense({ units: 7, ...noBias }),
        tfl.layers.reLU(),
        tfl.layers.dense({ units: 3, ...noBias }),
      ],
    }),
    seed,
    0.7,
  );
}

/**
 * Conv ReLU network without biases on 8×8×2 images: conv, zero padding (asymmetric), depthwise, average pooling,
 * cropping, conv, max pooling, dropout, flatten, reshape, dense.
 */
export function convReluNet(seed = 2): tfl.LayersModel {
  return setSeededWeights(
    tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', ...noBias }),
        tfl.layers.zeroPadding2d({ padding: [[1, 2], [2, 0]] }),
        tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'relu', ...noBias }),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.cropping2D({ cropping: [[0, 1], [1, 0]] }),
        tfl.layers.conv2d({ filters: 5, kernelSize: 2, strides: 1, activation: 'relu', ...noBias }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.flatten(),
        tfl.layers.reshape({ targetShape: [5] }),
        tfl.layers.dense({ units: 3, ...noBias }),
      ],
    }),
    seed,
    0.6,
  );
}

/** One-dimensional net without biases on [12, 2] sequences: conv1d, max/avg pooling, causal conv, global max pooling. */
export function sequenceNet(seed = 3): tfl.LayersModel {
  return setSeededWeights(
    tfl.sequential({
      layers: [
        tfl.layers.conv1d({ inputShape: [12, 2], filters: 4, kernelSize: 3, activation: 'relu', ...noBias }),
        tfl.layers.maxPooling1d({ poolSize: 2 }),
        tfl.layers.conv1d({ filters: 4, kernelSize: 2, padding: 'same', activation: 'relu', ...noBias }),
        tfl.layers.averagePooling1d({ poolSize: 2 }),
        tfl.layers.globalMaxPooling1d(),
        tfl.layers.dense({ units: 2, ...noBias }),
      ],
    }),
    seed,
    0.8,
  );
}

/**
 * Functional graph without biases on 6×6×2 images: a residual Add, a concatenation of two branches, a
 * conv layer used twice, a transposed conv, a nested Sequential and global average pooling.
 */
export function residualNet(seed = 4): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 2] });
  const stem = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', ...noBias, name: 'stem' });
  const shared = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', ...noBias, name: 'shared' });
  const h = stem.apply(input) as tfl.SymbolicTensor;
  const a = shared.apply(h) as tfl.SymbolicTensor;
  const b = shared.apply(a) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'sum' }).apply([h, b]) as tfl.SymbolicTensor;
  const branch = tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2, activation: 'relu', ...noBias }).apply(sum) as tfl.SymbolicTensor;
  const pooled = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(branch) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate().apply([sum, pooled]) as tfl.SymbolicTensor;
  const nested = tfl.sequential({
    name: 'nested',
    layers: [tfl.layers.conv2d({ inputShape: [6, 6, 5], filters: 4, kernelSize: 1, activation: 'relu', ...noBias })],
  });
  const features = tfl.layers.globalAveragePooling2d({}).apply(nested.apply(joined) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 3, ...noBias, name: 'logits' }).apply(features) as tfl.SymbolicTensor;
  return setSeededWeights(tfl.model({ inputs: input, outputs: logits }), seed, 0.7);
}

/** Gives BatchNorm layers positive variances and non-trivial statistics. */
export function randomizeBatchNorms(model: tfl.LayersModel, seed = 9): void {
  const visit = (m: tfl.LayersModel): void =>
    m.layers.forEach((layer, i) => {
      if (layer instanceof tfl.LayersModel) return visit(layer);
      if (layer.getClassName() !== 'BatchNormalization') return;
      const weights = layer.getWeights().map((w, k) =>
        tf.tidy(() => {
          const values = seededTensor(w.shape, seed * 100 + i * 10 + k, 0.5);
          // gamma, beta, moving mean, moving variance: the variance must stay positive.
          return k === layer.getWeights().length - 1 ? tf.add(tf.abs(values), 0.3) : k === 0 ? tf.add(values, 1) : values;
        }),
      );
      layer.setWeights(weights);
      weights.forEach((w) => w.dispose());
    });
  visit(model);
}

/**
 * MobileNetV2-style stack on 8×8×3 images (with biases, BatchNorm and relu6): conv stride 2 → BN →
 * relu6, an inverted residual block (1×1 expand → BN → relu6 → depthwise → BN → relu6 → 1×1 project →
 * BN, + skip), global average pooling, dense, softmax.
 */
export function mobileNetStyle(seed = 5): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  const conv = (filters: number, kernelSize: number, strides = 1) =>
    tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false });
  const bn = () => tfl.layers.batchNormalization();
  const relu6 = () => tfl.layers.reLU({ maxValue: 6 });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor) => layer.apply(x) as tfl.SymbolicTensor;
  const stem = apply(relu6(), apply(bn(), apply(conv(4, 3, 2), input)));
  let h = apply(relu6(), apply(bn(), apply(conv(8, 1), stem)));
  h = apply(tfl.layers.activation({ activation: 'relu6' }), apply(bn(), apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }), h)));
  h = apply(bn(), apply(conv(4, 1), h));
  const block = tfl.layers.add().apply([stem, h]) as tfl.SymbolicTensor;
  const pooled = apply(tfl.layers.globalAveragePooling2d({}), block);
  const probabilities = apply(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }), pooled);
  const model = setSeededWeights(tfl.model({ inputs: input, outputs: probabilities }), seed, 0.6);
  randomizeBatchNorms(model, seed);
  return model;
}
