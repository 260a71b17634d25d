import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../src/node/index';
import { expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';

/** A small conv net with every kind of weight a user is likely to save (kernels, biases, BN statistics). */
function convNet(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      tfl.layers.batchNormalization({ movingMeanInitializer: 'randomNormal', movingVarianceInitializer: 'ones' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
  return model;
}

async function predictions(model: tfl.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const y = model.predict(x) as tf.Tensor;
  const values = (await y.data()) as Float32Array;
  y.dispose();
  return values;
}

describe('nodeFileSystem', () => {
  let folder = '';
  const x = seededTensor([3, 6, 6, 2], 8);
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'glassbox-model-'));
  });
  afterAll(async () => {
    x.dispose();
    await rm(folder, { recursive: true, force: true });
  });

  it('saves model.json + weights.bin and loads a model with identical predictions', async () => {
    const model = convNet();
    const directory = join(folder, 'conv');
    const result = await expectNoLeak(() => model.save(nodeFileSystem(directory)));
    expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');
    const json = JSON.parse(await readFile(join(directory, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const weightBytes = (await readFile(join(directory, 'weights.bin'))).byteLength;
    expect(weightBytes).toBe(model.countParams() * 4);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(weightBytes);

    const loaded = await tfl.loadLayersModel(nodeFileSystem(directory));
    expect(Array.from(await predictions(loaded, x))).toEqual(Array.from(await predictions(model, x)));
    model.dispose();
    loaded.dispose();
  });

  it('saves to a named .json file and loads sharded weights listed in the manifest', async () => {
    const model = convNet();
    const jsonPath = join(folder, 'named', 'net.json');
    await model.save(nodeFileSystem(jsonPath));
    const weights = await readFile(join(folder, 'named', 'net.weights.bin'));
    // Rewrite as converter-style shards: the loader must concatenate them in manifest order.
    const json = JSON.parse(await readFile(jsonPath, 'utf8'));
    const cut = 20;
    await writeFile(join(folder, 'named', 'group1-shard1of2.bin'), weights.subarray(0, cut));
    await writeFile(join(folder, 'named', 'group1-shard2of2.bin'), weights.subarray(cut));
    json.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    await writeFile(join(folder, 'named', 'sharded.json'), JSON.stringify(json));
    const loaded = await tfl.loadLayersModel(nodeFileSystem(join(folder, 'named', 'sharded.json')));
    expect(Array.from(await predictions(loaded, x))).toEqual(Array.from(await predictions(model, x)));
    model.dispose();
    loaded.dispose();
  });

  it('names the missing or broken file in its errors', async () => {
    await expectRejectsWithoutLeak(
      () => tfl.loadLayersModel(nodeFileSystem(join(folder, 'nowhere'))),
      /path: cannot read the model JSON '.*nowhere[/\\]model\.json' \(ENOENT/,
    );
    await writeFile(join(folder, 'broken.json'), '{ not json');
    await expectRejectsWithoutLeak(() => tfl.loadLayersModel(nodeFileSystem(join(folder, 'broken.json'))), /path: '.*broken\.json' is not valid JSON/);
    await writeFile(join(folder, 'other.json'), '{"weightsManifest": []}');
    await expectRejectsWithoutLeak(() => tfl.loadLayersModel(nodeFileSystem(join(folder, 'other.json'))), /is not a tfjs model JSON: it has no modelTopology/);
    const model = convNet();
    await model.save(nodeFileSystem(join(folder, 'lost')));
    await rm(join(folder, 'lost', 'weights.bin'));
    await expectRejectsWithoutLeak(() => tfl.loadLayersModel(nodeFileSystem(join(folder, 'lost'))), /cannot read the weight file '.*lost[/\\]weights\.bin'/);
    model.dispose();
    expect(() => nodeFileSystem('')).toThrow(/path: expected a folder or a \.json file path, got ""/);
  });
});
