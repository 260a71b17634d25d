import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedGradients, KernelCache, withBackendGapFixesSync } from '../../src/core/backend-gaps';
import { derivedFromConstants } from '../../src/core/backend-gaps/scope-context';
import { inputGradient } from '../../src/core/input-gradient';
import { backend, expectClose, expectNoLeak, seededTensor } from '../helpers';
import { expectRegistry, snapshotRegistry } from './registry';

const pristine = snapshotRegistry();
afterEach(() => expectRegistry(pristine));

/** A 3×3 template cut out of the image itself, as a [3, 3, channels, outChannels] filter. */
const template = (x: tf.Tensor, outChannels = 1) =>
  tf.tile(tf.reshape(tf.slice(x, [0, 1, 2, 0], [1, 3, 3, x.shape[3] as number]), [3, 3, x.shape[3] as number, 1]), [1, 1, 1, outChannels]) as tf.Tensor4D;

/**
 * tf.grad without the scope; on wasm, which lacks the filter-gradient kernels, inside the scope with
 * exact filter gradients (those kernels are checked against loop references in backend-gaps.test.ts).
 */
const referenceGradient = (f: (v: tf.Tensor) => tf.Scalar, x: tf.Tensor) =>
  backend() === 'wasm' ? withBackendGapFixesSync(() => tf.grad(f)(x), { zeroFilterGradients: false }) : tf.grad(f)(x);

describe('filter gradients skipped only for constant filters', () => {
  const matchers: [string, (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor][] = [
    ['tf.conv2d', (x, filter) => tf.conv2d(x, filter, 1, 'same')],
    ['tf.fused.conv2d', (x, filter) => tf.fused.conv2d({ x, filter, strides: 1, pad: 'same' })],
    ['tf.fused.depthwiseConv2d', (x, filter) => tf.fused.depthwiseConv2d({ x, filter, strides: 1, pad: 'valid' })],
  ];
  for (const [name, match] of matchers) {
    it(`a template-matching function (filter = a slice of x, ${name}) gets tf.grad's gradient`, async () => {
      const x = seededTensor([1, 6, 7, 2], 161) as tf.Tensor4D;
      const f = (v: tf.Tensor) => tf.sum(tf.square(match(v as tf.Tensor4D, template(v)))) as tf.Scalar;
      const expected = referenceGradient(f, x);
      const dx = await expectNoLeak(() => inputGradient(f, x));
      await expectClose(dx, expected, 1e-5);
      expect((await tf.sum(tf.abs(expected)).data())[0]).toBeGreaterThan(1);
      tf.dispose([x, expected, dx]);
    });
  }

  it('skips the filter gradient of a tf.Variable filter, keeps it exact next to a non-constant one', async () => {
    const x = seededTensor([1, 5, 5, 2], 162) as tf.Tensor4D;
    const weights = tf.variable(seededTensor([3, 3, 2, 2], 163));
    const conv = (v: tf.Tensor, filter: tf.Tensor) => tf.fused.conv2d({ x: v as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'same' });
    // Only the variable filter: its gradient is skipped (zeros) inside the scope.
    const [, skipped] = withBackendGapFixesSync(() => tf.grads((v, f) => tf.sum(conv(v, f)) as tf.Scalar)([x, weights]));
    expect(Array.from(await skipped.data()).every((value) => value === 0)).toBe(true);
    // The same input also meets a filter computed from it: every filter gradient of that input is exact.
    const both = (v: tf.Tensor) => tf.add(tf.sum(conv(v, weights)), tf.sum(tf.square(conv(v, template(v, 2))))) as tf.Scalar;
    const expected = referenceGradient(both, x);
    const dx = inputGradient(both, x);
    await expectClose(dx, expected, 1e-5);
    tf.dispose([x, weights, skipped, expected, dx]);
  });
});

/**
 * Runs `run` in the scope with a spy on the filter-gradient kernel the scope installed, and returns, per
 * call, whether the kernel answered zeros.
 */
function filterGradientAnswers(run: () => tf.Tensor[]): { answers: boolean[]; gradients: tf.Tensor[] } {
  const answers: boolean[] = [];
  const gradients = withBackendGapFixesSync(() => {
    const name = tf.Conv2DBackpropFilter;
    const installed = tf.getKernel(name, tf.getBackend()) as tf.KernelConfig;
    tf.unregisterKernel(name, tf.getBackend());
    tf.registerKernel({
      ...installed,
      kernelFunc: (args) => {
        const output = installed.kernelFunc(args) as tf.TensorInfo;
        const values = (args.backend as tf.KernelBackend).readSync(output.dataId) as Float32Array;
        answers.push(values.every((value) => value === 0));
        return output;
      },
    });
    try {
      return run();
    } finally {
      tf.unregisterKernel(name, tf.getBackend());
      tf.registerKernel(installed);
    }
  });
  return { answers, gradients };
}

describe('filter gradients skipped for filters that do not depend on the differentiated inputs', () => {
  it("a GraphModel's plain-tensor filter: skipped in guardedGradients, exact when it is differentiated too", async () => {
    const x = seededTensor([1, 5, 5, 2], 165) as tf.Tensor4D;
    const filter = seededTensor([3, 3, 2, 3], 166) as tf.Tensor4D;
    const conv = (v: tf.Tensor, f: tf.Tensor) =>
      tf.sum(tf.square(tf.fused.conv2d({ x: v as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same' })));
    const onlyX = filterGradientAnswers(() => guardedGradients((v) => conv(v, filter), [x]));
    expect(onlyX.answers).toEqual([true]);
    const both = filterGradientAnswers(() => guardedGradients(conv, [x, filter]));
    expect(both.answers).toEqual([false]);
    const expected = referenceGradient((f) => conv(x, f) as tf.Scalar, filter);
    await expectClose(both.gradients[1], expected, 1e-5);
    await expectClose(onlyX.gradients[0], both.gradients[0], 1e-6);
    // Around a plain tf.grad only declared constants are skipped.
    const plain = filterGradientAnswers(() => [tf.grad((v: tf.Tensor) => conv(v, filter) as tf.Scalar)(x)]);
    expect(plain.answers).toEqual([false]);
    tf.dispose([x, filter, expected, ...onlyX.gradients, ...both.gradients, ...plain.gradients]);
  });
});

describe('KernelCache', () => {
  it('derives once per source data and kind, frees everything on dispose, refuses use afterwards', async () => {
    const source = tf.tensor1d([1, 2, 3]);
    const cache = new KernelCache();
    let calls = 0;
    const derive = (t: tf.Tensor) => {
      calls++;
      return tf.mul(t, 2);
    };
    const before = tf.memory().numTensors;
    const first = cache.derived('double', [source], derive);
    const again = tf.tidy(() => cache.derived('double', [source], derive));
    expect(again).toBe(first);
    expect(calls).toBe(1);
    cache.derived('other kind', [source], derive);
    expect(cache.size).toBe(2);
    expect(tf.memory().numTensors).toBe(before + 2);
    await expectClose(first, [2, 4, 6], 0);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => cache.derived('double', [source], derive)).toThrow(/KernelCache: the cache was disposed/);
    source.dispose();
  });

  it('caches inside a scope only what is derived from constants', () => {
    const constant = tf.tensor1d([1, 2]);
    const variable = tf.variable(tf.tensor1d([3, 4]));
    const computed = tf.tensor1d([5, 6]);
    const cache = new KernelCache();
    withBackendGapFixesSync(
      () => {
        for (const source of [constant, variable, computed]) derivedFromConstants('negated', [source], tf.neg);
        derivedFromConstants('sum', [constant, computed], tf.add);
        derivedFromConstants('sum', [constant, variable], tf.add);
      },
      { cache, constants: [constant] },
    );
    // negated(constant), negated(variable) and constant + variable; nothing computed from `computed`.
    expect(cache.size).toBe(3);
    cache.dispose();
    tf.dispose([constant, variable, computed]);
  });

  it('gives the same input gradient with and without a cache, which holds the derived constants', async () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    let h = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(input);
    h = tfl.layers.batchNormalization({ movingVarianceInitializer: 'ones', gammaInitializer: 'glorotNormal' }).apply(h);
    h = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(h);
    h = tfl.layers.conv2d({ filters: 5, kernelSize: 1 }).apply(h);
    const output = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(h)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const x = seededTensor([2, 8, 8, 3], 164);
    const score = (v: tf.Tensor) => tf.sum(model.apply(v) as tf.Tensor) as tf.Scalar;
    const plain = withBackendGapFixesSync(() => tf.grad(score)(x));
    const cache = new KernelCache();
    const cached = withBackendGapFixesSync(() => tf.grad(score)(x), { cache });
    const size = cache.size;
    const again = withBackendGapFixesSync(() => tf.grad(score)(x), { cache });
    await expectClose(cached, plain, 1e-6);
    await expectClose(again, plain, 1e-6);
    expect(cache.size).toBe(size);
    // Every backend: the batch norm factor γ/√(σ² + ε); wasm also one flipped 3×3 filter, one flipped
    // depthwise filter and one transposed 1×1 filter.
    expect(size).toBe(backend() === 'wasm' ? 4 : 1);
    cache.dispose();
    tf.dispose([x, plain, cached, again]);
    model.dispose();
  });
});
