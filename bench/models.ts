/**
 * The random-weight models and the test image the benchmarks time, shared by the Node scripts and the
 * browser bench page (no Node APIs here).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * A small VGG-like conv net with BatchNorm on `inputSize`² × 3 images: (conv → BN → ReLU) ×2, max
 * pooling, twice (16 then 32 filters), dense 64 → ReLU → dense 10.
 */
export function vggLike(inputSize: number): tfl.LayersModel {
  const block = (filters: number, first = false): tfl.layers.Layer[] => [
    tfl.layers.conv2d({ ...(first ? { inputShape: [inputSize, inputSize, 3] } : {}), filters, kernelSize: 3, padding: 'same' }),
    tfl.layers.batchNormalization(),
    tfl.layers.reLU(),
  ];
  return tfl.sequential({
    layers: [
      ...block(16, true),
      ...block(16),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      ...block(32),
      ...block(32),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: 'relu' }),
      tfl.layers.dense({ units: 10 }),
    ],
  });
}

/** A small MobileNet-like stack: stride-2 stem, depthwise-separable blocks, global average pooling, dense. */
export function mobileNetLike(inputSize: number): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [
    tfl.layers.conv2d({ inputShape: [inputSize, inputSize, 3], filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
  ];
  for (const filters of [32, 64, 128, 256]) {
    layers.push(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }));
    layers.push(tfl.layers.conv2d({ filters, kernelSize: 1, activation: 'relu' }));
  }
  layers.push(tfl.layers.globalAveragePooling2d({}), tfl.layers.dense({ units: 10 }));
  return tfl.sequential({ layers });
}

/** A smooth colourful test image with a flat disc, `[1, S, S, 3]` in [0, 1]. */
export function testImage(inputSize: number): tf.Tensor4D {
  const data = new Float32Array(inputSize * inputSize * 3);
  for (let y = 0; y < inputSize; y++) {
    for (let x = 0; x < inputSize; x++) {
      const disc = (x - 0.6 * inputSize) ** 2 + (y - 0.4 * inputSize) ** 2 < (0.2 * inputSize) ** 2;
      for (let c = 0; c < 3; c++) {
        data[(y * inputSize + x) * 3 + c] = disc ? 0.2 + 0.3 * c : 0.5 + 0.4 * Math.sin(x / (9 + 4 * c) + y / 13);
      }
    }
  }
  return tf.tensor4d(data, [1, inputSize, inputSize, 3]);
}
