import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers } from '../../src/index';
import { backend, seededTensor } from '../helpers';
import { fsIOHandler } from './support/fs-io-handler';
import { predictInFreshProcess } from './support/fresh-process';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-semantic-bottleneck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SemanticBottleneck save/load through the file system', () => {
  it('reloads in this process and in a fresh one that imports only the package, with identical outputs', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [4, 4, 3], filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        layers.semanticBottleneck({ concepts: [{ name: 'colour', size: 3 }, { name: 'region', size: 2 }], batchNorm: true, temperature: 0.5 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const x = seededTensor([2, 4, 4, 3], 5);
    // Give the batch-norm statistics non-default values before saving.
    tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
    await model.save(fsIOHandler(dir));
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ shape: x.shape, values: Array.from(await x.data()) }));
    const expected = Array.from(await (model.predict(x) as tf.Tensor).data());

    const loaded = await tfl.loadLayersModel(fsIOHandler(dir));
    expect(Array.from(await (loaded.predict(x) as tf.Tensor).data())).toEqual(expected);

    const fresh = predictInFreshProcess(dir);
    expect(fresh.layers).toEqual(['Conv2D', 'SemanticBottleneck', 'Flatten', 'Dense']);
    // The fresh process runs on cpu: identical there, float32-close when this project runs on wasm.
    if (backend() === 'cpu') expect(fresh.output).toEqual(expected);
    else fresh.output.forEach((v: number, i: number) => expect(v).toBeCloseTo(expected[i], 4));
    x.dispose();
    model.dispose();
    loaded.dispose();
  });
});
