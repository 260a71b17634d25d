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

const dir = mkdtempSync(join(tmpdir(), 'glassbox-invertible-concept-flow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('InvertibleConceptFlow save/load through the file system', () => {
  it('reloads in a fresh process that imports only the package, keeps ActNorm and the permutations', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [5], units: 6, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        layers.invertibleConceptFlow({ flows: 3, hidden: 8, depth: 1, factors: [2, 2] }), // unseeded: permutations are drawn
      ],
    });
    const first = tf.add(seededTensor([16, 5], 6, 3), 2);
    tf.dispose(model.predict(first) as tf.Tensor); // ActNorm initialises on this batch
    await model.save(fsIOHandler(dir));
    // The loaded model sees a different batch first; it must not initialise ActNorm again.
    const x = seededTensor([3, 5], 7);
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ shape: x.shape, values: Array.from(await x.data()) }));
    const expected = Array.from(await (model.predict(x) as tf.Tensor).data());

    const loaded = await tfl.loadLayersModel(fsIOHandler(dir));
    expect(Array.from(await (loaded.predict(x) as tf.Tensor).data())).toEqual(expected);

    const fresh = predictInFreshProcess(dir);
    expect(fresh.layers).toEqual(['Dense', 'InvertibleConceptFlow']);
    if (backend() === 'cpu') expect(fresh.output).toEqual(expected);
    else fresh.output.forEach((v: number, i: number) => expect(v).toBeCloseTo(expected[i], 4));
    tf.dispose([first, x]);
    model.dispose();
    loaded.dispose();
  });
});
