/**
 * A small CNN behind an EdgeFilterStem, trained on the synthetic colour/orientation stripes (class =
 * stripe colour × orientation, 6 classes) and cached on disk with the package's `nodeFileSystem`
 * IOHandler. The demo explains it with `stemScores`: which colour and which edge filter carry the
 * decision, and where in the image.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { layers } from '../src/index';
import { COLOUR_CLASSES, colourOrientationSet, ORIENTATION_CLASSES } from './data/colour-orientation';
import { loadOrTrain } from './support/cached-model';
import { testAccuracy, trainClassifier } from './support/train';

export const STEM_IMAGE_SIZE = 16;
/** Class `2·colour + orientation`, e.g. 'red vertical'. */
export const STEM_CLASSES = COLOUR_CLASSES.flatMap((colour) => ORIENTATION_CLASSES.map((orientation) => `${colour} ${orientation}`));

/** Images `[N, 16, 16, 3]` and one-hot labels of `count` stripe images. */
export function stemDataSet(count: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D; labels: Int32Array } {
  const set = colourOrientationSet('colour', count, STEM_IMAGE_SIZE, seed);
  const labels = set.channels.map((channel, n) => 2 * channel + set.orientations[n]);
  return {
    x: tf.tensor4d(set.images, [count, STEM_IMAGE_SIZE, STEM_IMAGE_SIZE, 3]),
    y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), STEM_CLASSES.length), 'float32')) as tf.Tensor2D,
    labels,
  };
}

/** stem (6 filters per colour) → conv(8) → pool → conv(16) → global average pooling → dense(6). */
function buildStemCnn(): tfl.Sequential {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: k });
  return tfl.sequential({
    layers: [
      layers.edgeFilterStem({ inputShape: [STEM_IMAGE_SIZE, STEM_IMAGE_SIZE, 3], name: 'stem' }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: STEM_CLASSES.length, kernelInitializer: init(3), name: 'logits' }),
    ],
  });
}

/** Trains the stem CNN (or loads it from `cacheDir`); returns it with its accuracy on a test set. */
export async function trainedStemCnn(cacheDir: string, log: (line: string) => void = console.log) {
  const test = stemDataSet(300, 12);
  const model = await loadOrTrain(
    cacheDir,
    'stem CNN',
    async () => {
      const cnn = buildStemCnn();
      const train = stemDataSet(1200, 11);
      await trainClassifier(cnn, [train.x, train.y], { epochs: 4 });
      tf.dispose([train.x, train.y]);
      return { model: cnn, what: `${train.labels.length} stripe images` };
    },
    log,
  );
  const accuracy = await testAccuracy(model, [test.x, test.y]);
  return { model, accuracy, test };
}
