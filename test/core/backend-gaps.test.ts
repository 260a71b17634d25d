import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it } from 'vitest';
import { withBackendGapFixes, withBackendGapFixesSync } from '../../src/core/backend-gaps';
import { conv2dBackpropInputKernel } from '../../src/core/backend-gaps/conv2d-backprop-input';
import { depthwiseBackpropInputKernel } from '../../src/core/backend-gaps/depthwise-backprop-input';
import {
  conv2dBackpropFilterKernel,
  depthwiseBackpropFilterKernel,
} from '../../src/core/backend-gaps/filter-gradients';
import { maxPoolGradKernel } from '../../src/core/backend-gaps/max-pool-grad';
import { unsortedSegmentSumKernel } from '../../src/core/backend-gaps/unsorted-segment-sum';
import { backend, expectClose, finiteDifferenceGradient, seededTensor } from '../helpers';
import {
  as4d,
  conv2dReference,
  depthwiseReference,
  expectKernel,
  gradientOf,
  maxPoolReference,
  sumOfProduct,
  type Window,
} from './window-reference';
import { expectRegistry, snapshotRegistry } from './registry';

const MISSING_ON_WASM = [
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'Conv2DBackpropFilter',
  'UnsortedSegmentSum',
];

const pristine = snapshotRegistry();
afterEach(() => expectRegistry(pristine));

/** Runs `fn` and checks that tensors and data buffers are back to their counts afterwards. */
async function withoutLeak(fn: () => Promise<void>): Promise<void> {
  const before = tf.memory();
  await fn();
  const after = tf.memory();
  expect(after.numTensors).toBe(before.numTensors);
  expect(after.numDataBuffers).toBe(before.numDataBuffers);
}

// ---- tests -------------------------------------------------------------------------------------------

describe('withBackendGapFixes: depthwise convolution input gradient', () => {
  const cases: (Omit<Window, 'shape'> & { multiplier: number; shape?: Window['shape'] })[] = [
    { filter: [3, 3], strides: [1, 1], dilations: [1, 1], pad: 'same', multiplier: 1 },
    { filter: [3, 3], strides: [2, 2], dilations: [1, 1], pad: 'same', multiplier: 2 },
    { filter: [2, 3], strides: [2, 2], dilations: [1, 1], pad: 'valid', multiplier: 2 },
    { filter: [3, 3], strides: [2, 1], dilations: [1, 1], pad: [[2, 0], [1, 1]], multiplier: 1 },
    { filter: [3, 2], strides: [1, 1], dilations: [2, 1], pad: 'same', multiplier: 2 },
  ];

  for (const c of cases) {
    const label =
      `filter ${c.filter}, strides ${c.strides}, dilations ${c.dilations}, ` +
      `pad ${JSON.stringify(c.pad)}, multiplier ${c.multiplier}`;
    it(`matches the definition: ${label}`, async () => {
      const w: Window = { ...c, shape: [2, 7, 6, 3] };
      const x = seededTensor(w.shape, 11) as tf.Tensor4D;
      const filter = seededTensor([...c.filter, 3, c.multiplier], 12) as tf.Tensor4D;
      const pad = Array.isArray(c.pad) ? [[0, 0], ...c.pad, [0, 0]] as tf.backend_util.ExplicitPadding : c.pad;
      const y = tf.depthwiseConv2d(x, filter, c.strides, pad, 'NHWC', c.dilations);
      const dy = seededTensor(y.shape, 13);
      const reference = depthwiseReference(w, await x.data(), await filter.data(), c.multiplier, await dy.data());
      expect(y.shape).toEqual(reference.dyShape);
      const attrs = { strides: c.strides, dilations: c.dilations, pad, inputShape: w.shape };
      await withoutLeak(async () => {
        // The op kernel itself, on every backend (cpu's and webgl's own kernels ignore dilations).
        await expectKernel(depthwiseBackpropInputKernel, { dy, filter }, attrs, reference.dx, 1e-5);
        // tfjs's depthwise gradient refuses dilations > 1; otherwise differentiate through the scope.
        if (c.dilations[0] === 1 && c.dilations[1] === 1) {
          const dx = await withBackendGapFixes(async () =>
            gradientOf((input) => tf.depthwiseConv2d(as4d(input), filter, c.strides, pad), x, dy),
          );
          await expectClose(dx, reference.dx, 1e-5);
          dx.dispose();
        }
        // The depthwise filter gradient kernel used where a backend lacks one.
        const filterAttrs = { ...attrs, filterShape: filter.shape };
        await expectKernel(depthwiseBackpropFilterKernel, { x, dy }, filterAttrs, reference.dFilter, 1e-5);
      });
      tf.dispose([x, filter, y, dy]);
    });
  }

  it('is missing on wasm outside the scope (the gap it closes)', () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const filter = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    const conv = (input: tf.Tensor) => tf.sum(tf.depthwiseConv2d(as4d(input), filter, 1, 'same')) as tf.Scalar;
    const gradient = () => tf.dispose(tf.grad(conv)(x));
    if (backend() === 'wasm') expect(gradient).toThrow(/DepthwiseConv2dNativeBackpropInput/);
    else gradient();
    withBackendGapFixesSync(gradient);
    tf.dispose([x, filter]);
  });
});

describe('withBackendGapFixes: convolution input gradient through the forward convolution', () => {
  const cases: (Omit<Window, 'shape' | 'dilations'> & { shape: Window['shape'] })[] = [
    { shape: [2, 7, 6, 3], filter: [3, 3], strides: [1, 1], pad: 'same' },
    { shape: [2, 7, 6, 3], filter: [1, 1], strides: [1, 1], pad: 'valid' },
    { shape: [2, 7, 6, 3], filter: [1, 1], strides: [2, 2], pad: 'same' },
    { shape: [1, 8, 5, 2], filter: [1, 1], strides: [2, 3], pad: 'valid' },
    { shape: [2, 7, 6, 3], filter: [3, 3], strides: [2, 2], pad: 'same' },
    { shape: [1, 8, 8, 2], filter: [2, 3], strides: [2, 1], pad: 'valid' },
    { shape: [2, 7, 6, 3], filter: [3, 3], strides: [2, 1], pad: [[2, 0], [1, 1]] },
    { shape: [1, 9, 7, 2], filter: [4, 2], strides: [3, 2], pad: 'same' },
    { shape: [2, 9, 9, 3], filter: [3, 3], strides: [2, 2], pad: 'valid' },
    { shape: [1, 8, 7, 2], filter: [5, 3], strides: [2, 3], pad: [[4, 3], [2, 0]] },
  ];
  for (const c of cases) {
    it(`matches the definition: filter ${c.filter}, strides ${c.strides}, pad ${JSON.stringify(c.pad)}`, async () => {
      const w: Window = { ...c, dilations: [1, 1] };
      const x = seededTensor(w.shape, 14) as tf.Tensor4D;
      const filter = seededTensor([...c.filter, w.shape[3], 4], 15) as tf.Tensor4D;
      const pad = Array.isArray(c.pad) ? ([[0, 0], ...c.pad, [0, 0]] as tf.backend_util.ExplicitPadding) : c.pad;
      const y = tf.conv2d(x, filter, c.strides, pad);
      const dy = seededTensor(y.shape, 16);
      const reference = conv2dReference(w, await x.data(), await filter.data(), 4, await dy.data());
      await withoutLeak(async () => {
        const attrs = { strides: c.strides, pad, inputShape: w.shape, dataFormat: 'NHWC' };
        await expectKernel(conv2dBackpropInputKernel, { dy, filter }, attrs, reference.dx, 1e-5);
        const dx = await withBackendGapFixes(async () => gradientOf((input) => tf.conv2d(as4d(input), filter, c.strides, pad), x, dy));
        await expectClose(dx, reference.dx, 1e-5);
        dx.dispose();
      });
      tf.dispose([x, filter, y, dy]);
    });
  }
});

describe('withBackendGapFixes: max pooling input gradient', () => {
  const cases: Window[] = [
    { shape: [2, 7, 7, 3], filter: [3, 3], strides: [2, 2], dilations: [1, 1], pad: 'valid' },
    { shape: [2, 7, 7, 3], filter: [3, 3], strides: [2, 2], dilations: [1, 1], pad: 'same' },
    { shape: [1, 5, 6, 2], filter: [2, 2], strides: [2, 2], dilations: [1, 1], pad: 'same' },
    { shape: [1, 6, 5, 2], filter: [3, 2], strides: [1, 1], dilations: [1, 1], pad: 'same' },
    // Windows that tile the input (the kernel's shorter path), with and without uncovered rows/columns.
    { shape: [2, 6, 8, 3], filter: [2, 2], strides: [2, 2], dilations: [1, 1], pad: 'valid' },
    { shape: [1, 5, 6, 2], filter: [2, 2], strides: [2, 2], dilations: [1, 1], pad: 'valid' },
    { shape: [2, 7, 8, 2], filter: [3, 2], strides: [3, 2], dilations: [1, 1], pad: 'valid' },
    { shape: [1, 6, 6, 2], filter: [2, 2], strides: [2, 2], dilations: [1, 1], pad: 'same' },
  ];
  for (const w of cases) {
    const label = `filter ${w.filter}, strides ${w.strides}, pad ${w.pad}`;
    it(`routes dy to each window's maximum when every value is negative: ${label}`, async () => {
      // Distinct negative values (no ties): −1 − |u| with u in [−1, 1).
      const x = tf.sub(-1, tf.abs(seededTensor(w.shape, 21))) as tf.Tensor4D;
      const y = tf.maxPool(x, w.filter, w.strides, w.pad as 'same' | 'valid');
      const dy = seededTensor(y.shape, 22);
      const reference = maxPoolReference(w, await x.data(), await dy.data());
      expect(y.shape).toEqual(reference.dyShape);
      await withoutLeak(async () => {
        const dx = await withBackendGapFixes(async () =>
          gradientOf((input) => tf.maxPool(as4d(input), w.filter, w.strides, w.pad as 'same'), x, dy),
        );
        await expectClose(dx, reference.dx, 1e-6);
        dx.dispose();
        const attrs = { filterSize: w.filter, strides: w.strides, pad: w.pad };
        await expectKernel(maxPoolGradKernel, { dy, input: x, output: y }, attrs, reference.dx, 1e-6);
      });
      tf.dispose([x, y, dy]);
    });
  }

  it('sends the gradient of a window of equal values to exactly one of them', async () => {
    const x = tf.fill([1, 4, 4, 1], -2) as tf.Tensor4D;
    const ones = tf.ones([1, 2, 2, 1]);
    const dx = withBackendGapFixesSync(() => gradientOf((input) => tf.maxPool(as4d(input), 2, 2, 'valid'), x, ones));
    const values = Array.from(await dx.data());
    expect(values.filter((v) => v === 1)).toHaveLength(4);
    expect(values.filter((v) => v === 0)).toHaveLength(12);
    // One per 2×2 window.
    for (const [r, c] of [[0, 0], [0, 2], [2, 0], [2, 2]]) {
      expect(values[r * 4 + c] + values[r * 4 + c + 1] + values[(r + 1) * 4 + c] + values[(r + 1) * 4 + c + 1]).toBe(1);
    }
    // The replacement kernel breaks ties like tfjs's cpu backend: the first maximum (row-major) wins.
    const y = tf.maxPool(x, 2, 2, 'valid');
    const firstOfEach = [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0];
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    await expectKernel(maxPoolGradKernel, { dy: ones, input: x, output: y }, attrs, firstOfEach, 0);
    tf.dispose([x, ones, dx, y]);
  });

  it('breaks ties in overlapping windows like the definition (first maximum, row-major)', async () => {
    // Values in {−1, 0, 1}: many windows hold their maximum more than once.
    const w: Window = { shape: [2, 6, 7, 2], filter: [3, 3], strides: [2, 2], dilations: [1, 1], pad: 'same' };
    const x = tf.round(seededTensor(w.shape, 23)) as tf.Tensor4D;
    const y = tf.maxPool(x, w.filter, w.strides, 'same');
    const dy = seededTensor(y.shape, 24);
    const reference = maxPoolReference(w, await x.data(), await dy.data());
    const attrs = { filterSize: w.filter, strides: w.strides, pad: w.pad };
    await expectKernel(maxPoolGradKernel, { dy, input: x, output: y }, attrs, reference.dx, 1e-6);
    tf.dispose([x, y, dy]);
  });
});

describe('withBackendGapFixes: filter gradients', () => {
  const w: Window = { shape: [2, 6, 5, 3], filter: [3, 3], strides: [2, 1], dilations: [1, 1], pad: 'same' };

  it('keeps the input gradient of a fused linear conv2d exact while a constant filter gets zeros', async () => {
    const x = seededTensor(w.shape, 31) as tf.Tensor4D;
    const filter = seededTensor([3, 3, 3, 4], 32) as tf.Tensor4D;
    const bias = seededTensor([4], 33) as tf.Tensor1D;
    const conv = (input: tf.Tensor, f: tf.Tensor) =>
      tf.fused.conv2d({ x: input as tf.Tensor4D, filter: f as tf.Tensor4D, strides: w.strides, pad: 'same', bias });
    const y = conv(x, filter);
    const dy = seededTensor(y.shape, 34);
    const reference = conv2dReference(w, await x.data(), await filter.data(), 4, await dy.data());
    await withoutLeak(async () => {
      const both = () => tf.grads((a, b) => sumOfProduct(conv(a, b), dy))([x, filter]);
      // Declared constant: the filter gradient is skipped (zeros), the input gradient stays exact.
      const [dx, dFilter] = await withBackendGapFixes(async () => both(), { constants: [filter] });
      await expectClose(dx, reference.dx, 1e-5);
      expect(Array.from(await dFilter.data()).every((v) => v === 0)).toBe(true);
      expect(dFilter.shape).toEqual(filter.shape);
      // Not a constant: both gradients are exact.
      const [dxExact, dFilterExact] = withBackendGapFixesSync(both);
      await expectClose(dxExact, reference.dx, 1e-5);
      await expectClose(dFilterExact, reference.dFilter, 1e-5);
      tf.dispose([dx, dFilter, dxExact, dFilterExact]);
    });
    tf.dispose([x, filter, bias, y, dy]);
  });

  it('keeps the input gradient of a tfjs-layers conv2d (linear activation) exact', async () => {
    const layer = tfl.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      strides: [2, 1],
      padding: 'same',
      biasInitializer: 'glorotNormal',
    });
    const x = seededTensor(w.shape, 35) as tf.Tensor4D;
    const y = layer.apply(x) as tf.Tensor;
    const dy = seededTensor(y.shape, 36);
    const [kernel] = layer.getWeights();
    const reference = conv2dReference(w, await x.data(), await kernel.data(), 4, await dy.data());
    await withoutLeak(async () => {
      const dx = await withBackendGapFixes(async () => gradientOf((input) => layer.apply(input) as tf.Tensor, x, dy));
      await expectClose(dx, reference.dx, 1e-5);
      dx.dispose();
    });
    tf.dispose([x, y, dy]);
    layer.dispose();
  });

  it('computes exact conv2d and depthwise filter gradients with zeroFilterGradients: false', async () => {
    const x = seededTensor(w.shape, 41) as tf.Tensor4D;
    const filter = seededTensor([3, 3, 3, 4], 42) as tf.Tensor4D;
    const dwFilter = seededTensor([3, 3, 3, 2], 43) as tf.Tensor4D;
    const y = tf.conv2d(x, filter, w.strides, 'same');
    const yDw = tf.depthwiseConv2d(x, dwFilter, w.strides, 'same');
    const dy = seededTensor(y.shape, 44);
    const dyDw = seededTensor(yDw.shape, 45);
    const xValues = await x.data();
    const conv = conv2dReference(w, xValues, await filter.data(), 4, await dy.data());
    const depthwise = depthwiseReference(w, xValues, await dwFilter.data(), 2, await dyDw.data());
    await withoutLeak(async () => {
      const [dFilter, dDwFilter] = await withBackendGapFixes(
        async () => [
          gradientOf((f) => tf.fused.conv2d({ x, filter: as4d(f), strides: w.strides, pad: 'same' }), filter, dy),
          gradientOf((f) => tf.depthwiseConv2d(x, as4d(f), w.strides, 'same'), dwFilter, dyDw),
        ],
        { zeroFilterGradients: false },
      );
      await expectClose(dFilter, conv.dFilter, 1e-5);
      await expectClose(dDwFilter, depthwise.dFilter, 1e-5);
      // The conv2d filter gradient kernel used where a backend lacks one, NHWC and NCHW.
      const attrs = { strides: w.strides, pad: 'same', filterShape: filter.shape };
      await expectKernel(conv2dBackpropFilterKernel, { x, dy }, { ...attrs, dataFormat: 'NHWC' }, conv.dFilter, 1e-5);
      const [xNchw, dyNchw] = [tf.transpose(x, [0, 3, 1, 2]), tf.transpose(dy, [0, 3, 1, 2])];
      const nchw = { ...attrs, dataFormat: 'NCHW' };
      await expectKernel(conv2dBackpropFilterKernel, { x: xNchw, dy: dyNchw }, nchw, conv.dFilter, 1e-5);
      tf.dispose([dFilter, dDwFilter, xNchw, dyNchw]);
    });
    tf.dispose([x, filter, dwFilter, y, yDw, dy, dyDw]);
  });
});

describe('withBackendGapFixes: batch normalization without scale or offset', () => {
  for (const [scale, center] of [[false, false], [false, true], [true, false]] as const) {
    const layer = `batchNormalization({ scale: ${scale}, center: ${center} })`;
    it(`differentiates dense → ${layer} → dense like finite differences`, async () => {
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [4], units: 5, kernelInitializer: 'glorotNormal' }),
          tfl.layers.batchNormalization({ scale, center, movingMeanInitializer: 'glorotNormal' }),
          tfl.layers.dense({ units: 3, activation: 'tanh', kernelInitializer: 'glorotNormal' }),
        ],
      });
      const x = seededTensor([1, 4], 51);
      const weights = tf.tensor1d([0.3, -1, 0.7]);
      const score = (input: tf.Tensor) => sumOfProduct(model.apply(input) as tf.Tensor, weights);
      const expected = await finiteDifferenceGradient(score, x, 1e-2);
      if (!scale || !center) expect(() => tf.grad(score)(x)).toThrow();
      await withoutLeak(async () => {
        const dx = await withBackendGapFixes(async () => tf.grad(score)(x));
        await expectClose(dx, expected, 2e-3);
        dx.dispose();
      });
      tf.dispose([x, weights]);
      model.dispose();
    });
  }

  it('differentiates tf.batchNorm on 4-D input without scale and offset exactly', async () => {
    const x = seededTensor([2, 3, 3, 4], 52);
    const mean = seededTensor([4], 53);
    const variance = tf.add(tf.abs(seededTensor([4], 54)), 0.5);
    const dy = seededTensor([2, 3, 3, 4], 55);
    const dx = withBackendGapFixesSync(() =>
      gradientOf((input) => tf.batchNorm(input, mean, variance, undefined, undefined, 1e-3), x, dy),
    );
    // dx = dy / √(variance + ε), per channel.
    const [dyValues, varianceValues] = [await dy.data(), await variance.data()];
    const expected = dyValues.map((g, i) => g / Math.sqrt(varianceValues[i % 4] + 1e-3));
    await expectClose(dx, expected, 1e-5);
    tf.dispose([x, mean, variance, dy, dx]);
  });
});

describe('withBackendGapFixes: gather gradient (UnsortedSegmentSum)', () => {
  it('sums the gradient of repeated indices like the definition', async () => {
    const params = seededTensor([5, 3], 61);
    const indices = tf.tensor1d([4, 0, 4, 2, 4], 'int32');
    const dy = seededTensor([5, 3], 62);
    const dyValues = await dy.data();
    const expected = new Float32Array(15);
    [4, 0, 4, 2, 4].forEach((row, i) => {
      for (let j = 0; j < 3; j++) expected[row * 3 + j] += dyValues[i * 3 + j];
    });
    await withoutLeak(async () => {
      const dParams = await withBackendGapFixes(async () => gradientOf((p) => tf.gather(p, indices), params, dy));
      await expectClose(dParams, expected, 1e-6);
      dParams.dispose();
    });
    tf.dispose([params, indices, dy]);
  });

  it('drops segment ids outside [0, numSegments)', async () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const ids = tf.tensor1d([1, -1, 1, 3], 'int32');
    const out = withBackendGapFixesSync(() => tf.unsortedSegmentSum(x, ids, 3));
    expect(Array.from(await out.data())).toEqual([0, 0, 6, 8, 0, 0]);
    await expectKernel(unsortedSegmentSumKernel, { x, segmentIds: ids }, { numSegments: 3 }, [0, 0, 6, 8, 0, 0], 0);
    tf.dispose([x, ids, out]);
  });
});

describe('withBackendGapFixes: a small MobileNet-like model', () => {
  it('matches finite differences: conv (linear) → BN (no scale) → depthwise (stride 2) → dense', async () => {
    const input = tfl.input({ shape: [5, 5, 2] });
    let h = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false }).apply(input);
    h = tfl.layers.batchNormalization({ scale: false, movingMeanInitializer: 'glorotNormal' }).apply(h);
    h = tfl.layers
      .depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: 'same', activation: 'tanh' })
      .apply(h);
    const output = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(h)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    const x = seededTensor([1, 5, 5, 2], 81);
    const weights = tf.tensor1d([1, -0.5]);
    const score = (v: tf.Tensor) => sumOfProduct(model.apply(v) as tf.Tensor, weights);
    const expected = await finiteDifferenceGradient(score, x, 1e-2);
    await withoutLeak(async () => {
      const dx = await withBackendGapFixes(async () => tf.grad(score)(x));
      await expectClose(dx, expected, 2e-3);
      dx.dispose();
    });
    tf.dispose([x, weights]);
    model.dispose();
  });
});

describe('withBackendGapFixes: scope', () => {
  const missingKernelsRegistered = () =>
    MISSING_ON_WASM.map((name) => tf.getKernel(name, tf.getBackend()) !== undefined);

  it('restores the registry exactly after success and after an error, and removes the kernels wasm lacks', async () => {
    const before = snapshotRegistry();
    const kernel = (name: string) => tf.getKernel(name, tf.getBackend());
    const outside = ['Conv2DBackpropFilter', 'FusedBatchNorm'].map(kernel);
    let inside: (tf.KernelConfig | undefined)[] = [];
    await withBackendGapFixes(async () => {
      inside = ['Conv2DBackpropFilter', 'FusedBatchNorm'].map(kernel);
      expect(missingKernelsRegistered()).toEqual([true, true, true, true]);
    });
    expectRegistry(before);
    // Filter-gradient kernels and batch norm are replaced on every backend.
    inside.forEach((config, i) => expect(config).not.toBe(outside[i]));

    await expect(withBackendGapFixes(async () => {
      throw new Error('boom inside the scope');
    })).rejects.toThrow('boom inside the scope');
    expectRegistry(before);
    expect(() => withBackendGapFixesSync(() => {
      throw new Error('sync boom');
    })).toThrow('sync boom');
    expectRegistry(before);

    if (backend() === 'wasm') expect(missingKernelsRegistered()).toEqual([false, false, false, false]);
  });

  it('keeps the fixes while any of two overlapping scopes is open and restores on the last exit', async () => {
    const before = snapshotRegistry();
    const conv2dFilter = () => tf.getKernel('Conv2DBackpropFilter', tf.getBackend());
    let releaseFirst!: () => void;
    let releaseSecond!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const secondHeld = new Promise<void>((resolve) => (releaseSecond = resolve));
    const first = withBackendGapFixes(() => firstHeld);
    const zeros = conv2dFilter();
    const second = withBackendGapFixes(() => secondHeld);
    expect(conv2dFilter()).toBe(zeros);
    releaseFirst();
    await first;
    // The second scope is still open: its fixes stay.
    expect(conv2dFilter()).toBe(zeros);
    expect(missingKernelsRegistered()).toEqual([true, true, true, true]);
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    const filter = tf.ones([3, 3, 2, 1]) as tf.Tensor4D;
    const dy = tf.onesLike(x);
    const dx = gradientOf((input) => tf.depthwiseConv2d(as4d(input), filter, 1, 'same'), x, dy);
    expect((await dx.data())[(1 * 4 + 1) * 2]).toBe(9);
    tf.dispose([x, filter, dy, dx]);
    releaseSecond();
    await second;
    expectRegistry(before);
  });

  it('lets an exact filter gradient outrank zeros while scopes with both options overlap', async () => {
    const before = snapshotRegistry();
    const x = seededTensor([1, 4, 4, 2], 71) as tf.Tensor4D;
    const filter = seededTensor([2, 2, 2, 3], 72) as tf.Tensor4D;
    const filterGradientSum = async () => {
      const total = tf.tidy(() => {
        const conv = (f: tf.Tensor) => tf.fused.conv2d({ x, filter: as4d(f), strides: 1, pad: 'valid' });
        return tf.sum(tf.abs(gradientOf(conv, filter, tf.ones([1, 3, 3, 3]))));
      });
      const [value] = await total.data();
      total.dispose();
      return value;
    };
    await withBackendGapFixes(async () => {
      expect(await filterGradientSum()).toBe(0);
      const exact = { zeroFilterGradients: false };
      await withBackendGapFixes(async () => expect(await filterGradientSum()).toBeGreaterThan(0), exact);
      expect(await filterGradientSum()).toBe(0);
    }, { constants: [filter] });
    expectRegistry(before);
    tf.dispose([x, filter]);
  });

  it('leaks no tensor or data buffer when installing and removing the fixes', async () => {
    await withoutLeak(async () => {
      await withBackendGapFixes(async () => withBackendGapFixesSync(() => undefined));
    });
  });

  it('rejects a non-boolean zeroFilterGradients naming the option', async () => {
    await expect(withBackendGapFixes(async () => 1, { zeroFilterGradients: 'yes' as never })).rejects.toThrow(
      /withBackendGapFixes: options.zeroFilterGradients: must be a boolean, got string \(yes\)/,
    );
    expect(() => withBackendGapFixesSync(() => 1, { zeroFilterGradients: 0 as never })).toThrow(
      /withBackendGapFixesSync: options.zeroFilterGradients: must be a boolean, got number \(0\)/,
    );
  });
});
