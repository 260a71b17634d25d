/**
 * The engine's contract for every method: strict options (unknown keys named, Captum's names mapped),
 * models with several inputs and outputs, input snapshots, per-channel baselines, token-id inputs,
 * one abort behaviour, and 'auto' batch sizing.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  gradientXInput,
  integratedGradients,
  integratedGradientsDelta,
  occlusion,
  rise,
  saliency,
  smoothGrad,
  smoothTaylor,
} from '../../src/index';
import { AUTO_MAX_ROWS, memoryBudget, rowsWithinBudget } from '../../src/core/memory-budget';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights, smoothMlp } from '../helpers/models';

describe('strict options', () => {
  const model = smoothMlp(4, 3, 3);
  const x = seededTensor([2, 4], 5);
  afterAll(() => x.dispose());

  it('name an unknown key with the nearest valid one, or our name for a Captum option', async () => {
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { target: 0, stpes: 3 } as never), /options\.stpes: unknown option; did you mean 'steps'\?/);
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { target: 0, nSteps: 3 } as never), /options\.nSteps: unknown option; Captum's\/Zennit's 'nSteps' is called 'steps' here/);
    await expectRejectsWithoutLeak(
      () => integratedGradients(model, x, { target: 0, internalBatchSize: 3 } as never),
      /options\.internalBatchSize: unknown option; Captum's\/Zennit's 'internalBatchSize' is called 'batchSize' here/,
    );
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, absolute: true } as never), /options\.absolute: unknown option; .*Valid options: abs, target/);
    await expectRejectsWithoutLeak(() => smoothGrad(model, x, { target: 0, nt_samples: 3 } as never), /options\.nt_samples: unknown option; .* is called 'samples' here/);
    await expectRejectsWithoutLeak(() => rise(model as never, x, { target: 0, mask: 3 } as never), /options\.mask: unknown option; did you mean 'masks'\?/);
  });

  it('check callbacks, signals, batch sizes and outputs before any work', async () => {
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, onProgress: 5 as never }), /options\.onProgress: expected a function/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, signal: {} as never }), /options\.signal: expected an AbortSignal/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, batchSize: 'big' as never }), /options\.batchSize: expected a positive integer or 'auto'/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, output: -1 }), /options\.output: expected an output index/);
    await expectRejectsWithoutLeak(() => saliency(model, x, null as never), /options: expected an options object, got null/);
  });

  it('abort with an AbortError that keeps a custom reason as its cause', async () => {
    const controller = new AbortController();
    const reason = new Error('user pressed cancel');
    controller.abort(reason);
    const error = await integratedGradients(model, x, { target: 0, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect((error as Error & { cause: unknown }).cause).toBe(reason);
    const late = new AbortController();
    // Aborted during the last progress report: the call must reject, never resolve.
    await expectRejectsWithoutLeak(
      () => integratedGradients(model, x, { target: 0, steps: 4, batchSize: 8, signal: late.signal, onProgress: (d, t) => d === t && late.abort() }),
      /aborted/,
    );
  });
});

describe('inputs and outputs', () => {
  it('explain models with several inputs: one attribution per input, complete over all of them', async () => {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [2] });
    const merged = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: 4, activation: 'tanh' }).apply(merged) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: tfl.layers.dense({ units: 2 }).apply(hidden) as tfl.SymbolicTensor }), 4, 0.8);
    const xa = seededTensor([2, 3], 6);
    const xb = seededTensor([2, 2], 7);
    tf.dispose(model.predict([xa, xb])); // tfjs-layers keeps tensors of a functional model's first call
    const [ga, gb] = await expectNoLeak(() => saliency(model, [xa, xb], { target: 1, abs: false }));
    // Independent: the gradient of the concatenated input, split.
    const joint = tf.tidy(() => {
      const f = (v: tf.Tensor) => tf.sum(tf.slice(model.predict([tf.slice(v, [0, 0], [-1, 3]), tf.slice(v, [0, 3], [-1, 2])]) as tf.Tensor, [0, 1], [-1, 1]));
      return tf.grad(f)(tf.concat([xa, xb], 1));
    });
    await expectClose(ga, tf.slice(joint, [0, 0], [-1, 3]), 1e-5);
    await expectClose(gb, tf.slice(joint, [0, 3], [-1, 2]), 1e-5);
    const ig = await integratedGradients(model, [xa, xb], { target: 1, steps: 64, baseline: [0, tf.ones([1, 2])] });
    const delta = await integratedGradientsDelta(model, [xa, xb], ig, { target: 1, baseline: [0, tf.ones([1, 2])] });
    expect(Math.max(...Array.from(await delta.data(), Math.abs))).toBeLessThan(1e-3);
    // A function of two tensors is called as f(x1, x2).
    const fn = (p: tf.Tensor, q: tf.Tensor) => model.predict([p, q]) as tf.Tensor;
    const [fa] = await gradientXInput(fn, [xa, xb], { target: 1 });
    await expectClose(fa, tf.mul(ga, xa), 1e-5);
    await expectRejectsWithoutLeak(() => saliency(model, xa, { target: 1 }), /x: the model has 2 inputs .*pass an array with one tensor per input/);
    const three = seededTensor([3, 2]);
    await expectRejectsWithoutLeak(() => saliency(model, [xa, three], { target: 1 }), /x\[1\]: expected the batch size of x\[0\] \(2\), got 3/);
    [xa, xb, three, ga, gb, joint, ig[0], ig[1], delta, fa].forEach((t) => t.dispose());
    model.dispose();
  });

  it('pick one output of a model with several, by index or name, and say which exist', async () => {
    const input = tfl.input({ shape: [3] });
    const first = tfl.layers.dense({ units: 2, name: 'first' }).apply(input) as tfl.SymbolicTensor;
    const second = tfl.layers.dense({ units: 3, name: 'second' }).apply(input) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: [first, second] }), 9, 0.7);
    const x = seededTensor([2, 3], 10);
    const byIndex = await saliency(model, x, { target: 2, output: 1, abs: false });
    const byName = await saliency(model, x, { target: 2, output: 'second', abs: false });
    const kernel = await model.getLayer('second').getWeights()[0].data(); // [3, 3], column 2
    await expectClose(byIndex, [kernel[2], kernel[5], kernel[8], kernel[2], kernel[5], kernel[8]], 1e-5);
    await expectClose(byName, byIndex, 0);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0 }), /options\.output: is required: the model has 2 outputs \("first\/BiasAdd"|options\.output: is required: the model has 2 outputs/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, output: 'third' }), /options\.output: the model has no output named "third"/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, output: 2 }), /options\.output: index 2 is out of range: the model has 2 outputs/);
    [x, byIndex, byName].forEach((t) => t.dispose());
    model.dispose();
  });

  it('read a GraphModel-like model outputs and input dtypes from its signature before running, and cast int inputs', async () => {
    let runs = 0;
    const weights = tf.tensor2d([[1, 2], [3, 4]]);
    const graph = {
      inputNodes: ['pixels'],
      outputNodes: ['boxes', 'scores'],
      inputs: [{ name: 'pixels', shape: [-1, 2], dtype: 'int32' as const }],
      outputs: [{ name: 'boxes', shape: [-1, 2], dtype: 'float32' as const }, { name: 'scores', shape: [-1, 2], dtype: 'float32' as const }],
      weights: { w: [weights] },
      predict: () => {
        throw new Error('not used');
      },
      execute: (feed: tf.NamedTensorMap, output?: string) => {
        runs++;
        expect(feed.pixels.dtype).toBe('int32');
        const v = tf.cast(feed.pixels, 'float32');
        return output === 'scores' ? tf.matMul(v, weights) : tf.neg(v);
      },
    };
    const x = tf.tensor2d([[1, 2], [3, 1]]);
    await expectRejectsWithoutLeak(() => occlusion(graph, x, { target: 0, window: [1] }), /options\.output: is required: the model has 2 outputs \("boxes", "scores"\)/);
    expect(runs).toBe(0);
    const map = await expectNoLeak(() => occlusion(graph, x, { target: 1, output: 'scores', window: [1] }));
    // Occluding feature i of a linear score removes x_i · w[i][1].
    await expectClose(map, [1 * 2, 2 * 4, 3 * 2, 1 * 4], 1e-6);
    [x, map, weights].forEach((t) => t.dispose());
  });

  it('take a snapshot of x: disposing or re-assigning it mid-call changes nothing', async () => {
    const model = smoothMlp(4, 3, 11);
    const values = seededTensor([3, 4], 12);
    const expected = await smoothTaylor(model, values, { target: 1, samples: 6, seed: 1, batchSize: 2 });
    const variable = tf.variable(values);
    const copy = tf.clone(values);
    const fromVariable = await smoothTaylor(model, variable, { target: 1, samples: 6, seed: 1, batchSize: 2, onProgress: () => variable.assign(tf.zerosLike(values)) });
    const fromDisposed = await smoothTaylor(model, copy, { target: 1, samples: 6, seed: 1, batchSize: 2, onProgress: () => copy.dispose() });
    const sg = await smoothGrad(model, values, { target: 1, samples: 3, seed: 2, batchSize: 1 });
    const sgCopy = tf.clone(values);
    const sgDisposed = await smoothGrad(model, sgCopy, { target: 1, samples: 3, seed: 2, batchSize: 1, onProgress: () => sgCopy.dispose() });
    await expectClose(fromVariable, expected, 1e-6);
    await expectClose(fromDisposed, expected, 1e-6);
    await expectClose(sgDisposed, sg, 1e-6);
    [values, variable, expected, fromVariable, fromDisposed, sg, sgDisposed].forEach((t) => t.dispose());
  });

  it('accept per-channel baselines [C] and reject non-finite or disposed ones', async () => {
    const model = (v: tf.Tensor) => tf.reshape(tf.sum(tf.square(v), [1, 2, 3]), [-1, 1]);
    const x = seededTensor([2, 3, 3, 2], 13);
    const perChannel = tf.tensor1d([0.5, -0.25]);
    const full = tf.tidy(() => tf.mul(tf.ones([1, 3, 3, 2]), perChannel));
    const a = await expectNoLeak(() => integratedGradients(model, x, { steps: 8, baseline: perChannel }));
    const b = await integratedGradients(model, x, { steps: 8, baseline: full });
    await expectClose(a, b, 1e-6);
    const nan = tf.tensor1d([NaN, 0]);
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { baseline: nan }), /options\.baseline: contains NaN values/);
    const gone = tf.ones([1, 3, 3, 2]);
    gone.dispose();
    await expectRejectsWithoutLeak(() => integratedGradients(model, x, { baseline: gone }), /options\.baseline: the tensor has already been disposed/);
    [x, perChannel, full, a, b, nan].forEach((t) => t.dispose());
  });

  it('refuse gradients of token ids with an error naming the Embedding, while perturbation methods take them', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 5, name: 'tokens' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    const ids = tf.tensor2d([[1, 2, 3, 4, 5], [0, 9, 8, 7, 6]], undefined, 'int32');
    await expectRejectsWithoutLeak(
      () => integratedGradients(model, ids, { target: 0 }),
      /Embedding layer "tokens": its values are token ids, which have no gradient.*layerIntegratedGradients\(model, ids, \{ layer: 'tokens'/,
    );
    const map = await expectNoLeak(() => occlusion(model, ids, { target: 0, window: [1] }));
    expect(map.shape).toEqual([2, 5]);
    [ids, map].forEach((t) => t.dispose());
    model.dispose();
  });
});

describe("batchSize 'auto'", () => {
  it('sizes chunks to the backend budget after a one-row probe', () => {
    expect(rowsWithinBudget(0, 1)).toBe(AUTO_MAX_ROWS);
    expect(rowsWithinBudget(memoryBudget() / 4, 1)).toBe(4);
    expect(rowsWithinBudget(memoryBudget() / 4, 2)).toBe(8);
    expect(rowsWithinBudget(memoryBudget() * 3, 1)).toBe(1);
  });

  it('probes with one row, then runs the rest in budget-sized chunks, with the same result', async () => {
    const model = smoothMlp(6, 3, 14);
    const x = seededTensor([3, 6], 15);
    const progress: number[] = [];
    const auto = await integratedGradients(model, x, { target: 2, steps: 20, onProgress: (d) => progress.push(d) });
    const fixed = await integratedGradients(model, x, { target: 2, steps: 20, batchSize: 7 });
    await expectClose(auto, fixed, 1e-6);
    expect(progress).toEqual([1, 60]);
    [x, auto, fixed].forEach((t) => t.dispose());
  });

  it('keeps a large model within the budget: chunk rows × measured bytes per row ≤ budget', async () => {
    // 64×64×16 float activations per conv layer: 256 KiB per layer and row.
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [64, 64, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3);
    const progress: number[] = [];
    const ig = await integratedGradients(model, x, { target: 0, steps: 12, onProgress: (d) => progress.push(d) });
    const chunkRows = progress.map((d, i) => d - (progress[i - 1] ?? 0));
    expect(chunkRows[0]).toBe(1);
    expect(progress[progress.length - 1]).toBe(12);
    // The tape holds at least both layers' outputs (2 × 256 KiB per row), counted twice for the backward pass.
    expect(Math.max(...chunkRows)).toBeLessThanOrEqual(rowsWithinBudget(2 * 2 * 2 ** 18, 1));
    [x, ig].forEach((t) => t.dispose());
    model.dispose();
  });
});
