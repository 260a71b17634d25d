/**
 * A tfjs `IOHandler` on the local file system, so `model.save` and `tfl.loadLayersModel` work in Node
 * without `@tensorflow/tfjs-node`. Files are in the standard tfjs format (a `model.json` whose
 * `weightsManifest` points at binary weight files), interchangeable with tfjs-node's `file://` and
 * with tensorflowjs_converter output.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';

/**
 * Saves and loads tfjs models on disk.
 *
 * `path` is a folder (saved as `model.json` + `weights.bin` in it, created if missing) or a `.json`
 * file (saved with its weights beside it as `<name>.weights.bin`). Loading reads the JSON file and
 * every weight file listed in its manifest (paths relative to the JSON file), so sharded converter
 * output (`group1-shard1of3.bin`, ...) loads too.
 * @example
 * import { nodeFileSystem } from 'tfjs-glassbox/node';
 * await model.save(nodeFileSystem('models/mnist'));
 * const again = await tfl.loadLayersModel(nodeFileSystem('models/mnist'));
 */
export function nodeFileSystem(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path.length === 0) {
    throw new GlassboxArgumentError('path', `expected a folder or a .json file path, got ${describeValue(path)}`);
  }
  const isJsonFile = path.toLowerCase().endsWith('.json');
  const jsonPath = isJsonFile ? path : join(path, 'model.json');
  const weightsName = isJsonFile ? `${basename(path).slice(0, -'.json'.length)}.weights.bin` : 'weights.bin';

  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new GlassboxArgumentError('modelArtifacts', 'a binary (protobuf) model topology cannot be saved as JSON');
      }
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig && { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.signature && { signature: artifacts.signature }),
        ...(artifacts.userDefinedMetadata && { userDefinedMetadata: artifacts.userDefinedMetadata }),
        ...(artifacts.modelInitializer && { modelInitializer: artifacts.modelInitializer }),
        ...(artifacts.initializerSignature && { initializerSignature: artifacts.initializerSignature }),
      };
      const folder = dirname(jsonPath);
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, weightsName), new Uint8Array(weightData));
      await writeFile(jsonPath, JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const text = new TextDecoder().decode(await readOrThrow(jsonPath, 'model JSON'));
      let modelJSON: tf.io.ModelJSON;
      try {
        modelJSON = JSON.parse(text) as tf.io.ModelJSON;
      } catch (error) {
        throw new GlassboxArgumentError('path', `'${jsonPath}' is not valid JSON (${(error as Error).message})`);
      }
      if (typeof modelJSON !== 'object' || modelJSON === null || modelJSON.modelTopology == null) {
        throw new GlassboxArgumentError('path', `'${jsonPath}' is not a tfjs model JSON: it has no modelTopology`);
      }
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const file of group.paths) buffers.push(await readOrThrow(join(dirname(jsonPath), file), 'weight file'));
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Reads a whole file into an ArrayBuffer, naming the file in the error. */
async function readOrThrow(file: string, what: string): Promise<ArrayBuffer> {
  try {
    const bytes = await readFile(file);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (error) {
    throw new GlassboxArgumentError('path', `cannot read the ${what} '${file}' (${(error as Error).message})`);
  }
}
