import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers, SpatialShuffle } from '../../src/index';
import { seededTensor } from '../helpers';
import { fsIOHandler } from './support/fs-io-handler';
import { predictInFreshProcess } from './support/fresh-process';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A model with both layers (the shuffle seeded), saved to `dir` in its first-call state. */
const buildModel = (): tfl.Sequential =>
  tfl.sequential({
    layers: [
      layers.edgeFilterStem({ inputShape: [6, 6, 3], filters: ['identity', 'sobel-x', [[0, 1], [-2, 0.25]]] }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      layers.spatialShuffle({ seed: 123 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });

describe('EdgeFilterStem and SpatialShuffle save/load through a file-system IOHandler', () => {
  it('reload in this process and in a fresh one that imports only the package, with identical outputs', async () => {
    const model = buildModel();
    await model.save(fsIOHandler(dir));
    const x = seededTensor([2, 6, 6, 3], 41);
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ shape: x.shape, values: Array.from(await x.data()) }));
    const expected = model.predict(x) as tf.Tensor;
    const expectedValues = Array.from(await expected.data());

    const loaded = await tfl.loadLayersModel(fsIOHandler(dir));
    const inProcess = loaded.predict(x) as tf.Tensor;
    expect(Array.from(await inProcess.data())).toEqual(expectedValues);
    // The stream goes on after the first call; restarting it reproduces the first call.
    (loaded.layers[2] as SpatialShuffle).resetStream();
    const again = loaded.predict(x) as tf.Tensor;
    expect(Array.from(await again.data())).toEqual(expectedValues);

    const fresh = predictInFreshProcess(dir);
    expect(fresh.layers).toEqual(['EdgeFilterStem', 'Conv2D', 'SpatialShuffle', 'Flatten', 'Dense']);
    // The fresh process runs on cpu; this project may run on wasm: compare within float32 tolerance.
    fresh.output.forEach((v: number, i: number) => expect(v).toBeCloseTo(expectedValues[i], 4));
    tf.dispose([x, expected, inProcess, again]);
    model.dispose();
    loaded.dispose();
  });
});
