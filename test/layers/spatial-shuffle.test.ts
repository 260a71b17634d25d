import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { layers, SpatialShuffle } from '../../src/index';
import { withRowContext } from '../../src/advanced';
import { expectNoLeak, seededTensor } from '../helpers';

const [N, H, W, C] = [3, 4, 5, 2];
const P = H * W;

/** An input whose value encodes (example, position, channel): 1000·n + 10·p + c. */
const codedInput = (): tf.Tensor => {
  const values = new Float32Array(N * P * C);
  for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) values[(n * P + p) * C + c] = 1000 * n + 10 * p + c;
  return tf.tensor4d(values, [N, H, W, C]);
};

/**
 * Reads the permutations back from the shuffled coded input, checking on the way that each example's
 * positions are a permutation, applied alike to all channels and within the example.
 */
async function permutationsOf(y: tf.Tensor): Promise<number[][]> {
  const v = await y.data();
  return Array.from({ length: N }, (_, n) => {
    const perm = Array.from({ length: P }, (_, j) => {
      const code = v[(n * P + j) * C];
      for (let c = 0; c < C; c++) expect(v[(n * P + j) * C + c]).toBe(code + c);
      expect(Math.floor(code / 1000)).toBe(n);
      return (code % 1000) / 10;
    });
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: P }, (_, i) => i));
    return perm;
  });
}

const applyTo = async (layer: SpatialShuffle, x: tf.Tensor): Promise<number[][]> => {
  const y = layer.apply(x) as tf.Tensor;
  const perms = await permutationsOf(y);
  y.dispose();
  return perms;
};

describe('SpatialShuffle', () => {
  it('permutes the positions of every example with its own permutation, alike for all channels', async () => {
    const x = codedInput();
    const layer = layers.spatialShuffle({ seed: 1 });
    const y = (await expectNoLeak(() => layer.apply(x))) as tf.Tensor;
    expect(y.shape).toEqual([N, H, W, C]);
    const perms = await permutationsOf(y);
    expect(perms[0]).not.toEqual(perms[1]);
    expect(perms[1]).not.toEqual(perms[2]);
    tf.dispose([x, y]);
  });

  it('shares one permutation across the batch with perExample: false', async () => {
    const x = codedInput();
    const perms = await applyTo(layers.spatialShuffle({ perExample: false, seed: 2 }), x);
    expect(perms[1]).toEqual(perms[0]);
    expect(perms[2]).toEqual(perms[0]);
    x.dispose();
  });

  it('draws a fresh permutation on every call, in training and at inference, reproducibly from a seed', async () => {
    const x = codedInput();
    const a = layers.spatialShuffle({ seed: 7 });
    const b = layers.spatialShuffle({ seed: 7 });
    const first = await applyTo(a, x);
    const second = await applyTo(a, x);
    expect(second).not.toEqual(first);
    expect(await applyTo(b, x)).toEqual(first);
    expect(await applyTo(b, x)).toEqual(second);
    a.resetStream();
    expect(await applyTo(a, x)).toEqual(first);
    expect(await applyTo(layers.spatialShuffle({ seed: 8 }), x)).not.toEqual(first);
    const training = layers.spatialShuffle({ seed: 7 });
    const y = training.apply(x, { training: true }) as tf.Tensor;
    expect(await permutationsOf(y)).toEqual(first);
    const unseeded = layers.spatialShuffle();
    expect(await applyTo(unseeded, x)).not.toEqual(await applyTo(unseeded, x));
    tf.dispose([x, y]);
  });

  it('has the inverse permutation as its gradient', async () => {
    const x = codedInput();
    const upstream = seededTensor([N, H, W, C], 11);
    const perms = await applyTo(layers.spatialShuffle({ seed: 5 }), x);
    const layer = layers.spatialShuffle({ seed: 5 });
    const grad = await expectNoLeak(() =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, upstream)))(x),
    );
    // y[n, j] = x[n, perm[j]], so ∂/∂x[n, perm[j]] = upstream[n, j].
    const u = await upstream.data();
    const expected = new Float32Array(N * P * C);
    perms.forEach((perm, n) => perm.forEach((p, j) => {
      for (let c = 0; c < C; c++) expected[(n * P + p) * C + c] = u[(n * P + j) * C + c];
    }));
    expect(Array.from(await grad.data())).toEqual(Array.from(expected));
    tf.dispose([x, upstream, grad]);
  });

  it('trains inside Sequential and functional models with fit, leaking nothing', async () => {
    const xs = seededTensor([8, 3, 3, 2], 12);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], 'int32'), 2);
    const sequential = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [3, 3, 2], units: 4, activation: 'tanh' }),
        layers.spatialShuffle({ seed: 3 }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const input = tfl.input({ shape: [3, 3, 2] });
    const shuffled = new SpatialShuffle({ perExample: false, seed: 4 }).apply(input) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: 4, activation: 'tanh' }).apply(shuffled) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(hidden) as tfl.SymbolicTensor;
    const functional = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor });
    for (const model of [sequential, functional]) {
      model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
      const history = await model.fit(xs, ys, { epochs: 8, batchSize: 8, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(loss[7]).toBeLessThan(loss[0]);
      const before = tf.memory().numTensors;
      await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
      tf.dispose(model.predict(xs) as tf.Tensor);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
    tf.dispose([xs, ys]);
  });

  it('round-trips through an IOHandler with identical outputs for a fixed seed', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 3, kernelSize: 2, padding: 'same' }),
        layers.spatialShuffle({ seed: 42, perExample: false }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    const restored = loaded.layers[1] as SpatialShuffle;
    expect([restored.seed, restored.perExample]).toEqual([42, false]);
    const x = seededTensor([2, 4, 4, 1], 13);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('rejects inputs of the wrong rank and bad options, naming the problem', () => {
    expect(() => tfl.sequential({ layers: [layers.spatialShuffle({ inputShape: [6, 2] })] })).toThrow(
      /SpatialShuffle '.*': expected input of rank 4 \[batch, height, width, channels\], got rank 3/,
    );
    const x = tf.zeros([2, 6, 2]);
    const before = tf.memory().numTensors;
    expect(() => layers.spatialShuffle().apply(x)).toThrow(/expected input of rank 4 .* got rank 3 \(shape \[2, 6, 2\]\)/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    expect(() => layers.spatialShuffle({ seed: 1.5 })).toThrow(/config\.seed: expected an integer >= 0, got 1\.5/);
    expect(() => layers.spatialShuffle({ seed: -1 })).toThrow(/config\.seed: expected an integer >= 0, got -1/);
    expect(() => layers.spatialShuffle({ perExample: 'yes' as never })).toThrow(/config\.perExample: expected true or false, got "yes"/);
  });
});

describe('SpatialShuffle inside a row context', () => {
  const inContext = async (layer: SpatialShuffle, seed: number, examples: number[]): Promise<number[][]> => {
    const x = codedInput();
    const y = withRowContext({ seed, examples: Int32Array.from(examples) }, () => layer.apply(x) as tf.Tensor);
    const perms = await permutationsOf(y);
    tf.dispose([x, y]);
    return perms;
  };

  it('gives rows of one example one permutation, the same in every call, keyed by (call seed, layer, example)', async () => {
    const layer = layers.spatialShuffle({ seed: 3, name: 'shuffle_ctx' });
    const first = await inContext(layer, 11, [0, 0, 1]);
    expect(first[1]).toEqual(first[0]);
    expect(first[2]).not.toEqual(first[0]);
    // Not a stream: the next call in the same context repeats the permutations, whatever came before.
    await applyTo(layer, codedInput());
    expect(await inContext(layer, 11, [0, 0, 1])).toEqual(first);
    // Row 1 belongs to example 1 now: it gets example 1's permutation.
    const moved = await inContext(layer, 11, [0, 1, 1]);
    expect(moved[1]).toEqual(first[2]);
    expect(await inContext(layer, 12, [0, 0, 1])).not.toEqual(first);
    // Another layer (other name) draws its own permutations; a copy with the same name and seed the same.
    expect(await inContext(layers.spatialShuffle({ seed: 3, name: 'other_ctx' }), 11, [0, 0, 1])).not.toEqual(first);
    expect(await inContext(layers.spatialShuffle({ seed: 3, name: 'shuffle_ctx' }), 11, [0, 0, 1])).toEqual(first);
  });

  it('shares one permutation across all rows with perExample: false, and names a row-count mismatch', async () => {
    const layer = layers.spatialShuffle({ perExample: false, name: 'shared_ctx' });
    const perms = await inContext(layer, 5, [0, 1, 2]);
    expect(perms[1]).toEqual(perms[0]);
    expect(perms[2]).toEqual(perms[0]);
    const x = codedInput();
    expect(() => withRowContext({ seed: 5, examples: new Int32Array(2) }, () => layer.apply(x))).toThrow(/the row context names 2 rows, the layer got 3/);
    x.dispose();
  });
});
