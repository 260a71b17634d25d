import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deconvolutionOverrides,
  type GradientOverride,
  guidedOverrides,
  withBackendGapFixes,
  withBackendGapFixesSync,
} from '../../src/core/backend-gaps';
import { GlassboxArgumentError } from '../../src/core/errors';
import { expectClose, expectNoLeak } from '../helpers';
import { expectRegistry, snapshotRegistry } from './registry';

const pristine = snapshotRegistry();
afterEach(() => expectRegistry(pristine));

// A tiny net, y = relu(x·W1 + b1)·W2, scored by s = y·v. Chosen so that the four hidden units cover
// every case: z > 0 with g > 0, z > 0 with g < 0, z < 0 with g > 0, z < 0 with g < 0 (g = W2·v).
const X = [1, -2, 0.5];
const W1 = [
  [1, 0.5, -1, 0.2],
  [-0.5, 1, 0.25, 0.5],
  [2, -1, 1, -0.4],
];
const B1 = [0.5, 3, 0.1, 0.3];
const W2 = [
  [1, -1],
  [-0.5, 1],
  [1, 0],
  [-1, 0.5],
];
const V = [1, -0.5];

/** The hidden pre-activations z = x·W1 + b1. */
const hidden = () => B1.map((b, j) => X.reduce((acc, x, i) => acc + x * W1[i][j], b));

/**
 * dx = W1 · (k · rule(g, k·z)) in float64 for the net whose activation reads `k·z`, with a rule giving
 * the gradient at the activation's input from the incoming gradient g = W2·v.
 */
function handGradient(rule: (g: number, z: number) => number, k = 1): number[] {
  const g = W2.map((row) => row[0] * V[0] + row[1] * V[1]);
  const gz = hidden().map((zj, j) => k * rule(g[j], k * zj));
  return X.map((_, i) => W1[i].reduce((acc, w, j) => acc + w * gz[j], 0));
}

const relu = (t: number) => Math.max(t, 0);

function tinyNet(activate: (z: tf.Tensor) => tf.Tensor, k = 1) {
  const w1 = tf.tensor2d(W1);
  const b1 = tf.tensor1d(B1);
  const w2 = tf.tensor2d(W2);
  const v = tf.tensor1d(V);
  const score = (x: tf.Tensor) =>
    tf.sum(tf.mul(tf.matMul(activate(tf.mul(tf.add(tf.matMul(x, w1), b1), k)), w2), v)) as tf.Scalar;
  return { score, dispose: () => tf.dispose([w1, b1, w2, v]) };
}

describe('gradient overrides: guided backpropagation and deconvolution', () => {
  it('the tiny net covers every sign case', () => {
    const g = W2.map((row) => row[0] * V[0] + row[1] * V[1]);
    const cases = new Set(hidden().map((zj, j) => `${Math.sign(zj)}${Math.sign(g[j])}`));
    expect(cases).toEqual(new Set(['11', '1-1', '-11', '-1-1']));
  });

  it('ReLU: plain, guided and deconvolution gradients match the hand-computed ones', async () => {
    const net = tinyNet(tf.relu);
    const x = tf.tensor2d([X]);
    const plain = withBackendGapFixesSync(() => tf.grad(net.score)(x));
    const guided = withBackendGapFixesSync(() => tf.grad(net.score)(x), { gradients: guidedOverrides() });
    const deconvolution = withBackendGapFixesSync(() => tf.grad(net.score)(x), { gradients: deconvolutionOverrides() });
    await expectClose(plain, handGradient((g, z) => (z > 0 ? g : 0)), 1e-6);
    await expectClose(guided, handGradient((g, z) => (z > 0 ? relu(g) : 0)), 1e-6);
    await expectClose(deconvolution, handGradient((g) => relu(g)), 1e-6);
    tf.dispose([x, plain, guided, deconvolution]);
    net.dispose();
  });

  it('ReLU6 (tf.relu6 and tfjs-layers reLU({ maxValue: 6 })): guided and deconvolution rules', async () => {
    // The activation reads 2z = [7, 2, −1.8, −1.4]: above 6, inside (0, 6] and below 0.
    const k = 2;
    const layer = tfl.layers.reLU({ maxValue: 6 });
    const x = tf.tensor2d([X]);
    const guidedRule = (g: number, z: number) => (z > 0 && z <= 6 ? relu(g) : 0);
    const deconvolutionRule = (g: number, z: number) => (z <= 6 ? relu(g) : 0);
    const zs = hidden().map((z) => k * z);
    expect(zs.some((z) => z > 6) && zs.some((z) => z > 0 && z <= 6) && zs.some((z) => z < 0)).toBe(true);
    for (const activate of [tf.relu6, (z: tf.Tensor) => layer.apply(z) as tf.Tensor]) {
      const net = tinyNet(activate, k);
      const guided = withBackendGapFixesSync(() => tf.grad(net.score)(x), { gradients: guidedOverrides() });
      const deconvolution = withBackendGapFixesSync(() => tf.grad(net.score)(x), { gradients: deconvolutionOverrides() });
      await expectClose(guided, handGradient(guidedRule, k), 1e-6);
      await expectClose(deconvolution, handGradient(deconvolutionRule, k), 1e-6);
      tf.dispose([guided, deconvolution]);
      net.dispose();
    }
    x.dispose();
  });

  it('reaches activations fused into tfjs-layers Dense layers', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [3], units: 4, activation: 'relu', weights: [tf.tensor2d(W1), tf.tensor1d(B1)] }),
        tfl.layers.dense({ units: 2, useBias: false, weights: [tf.tensor2d(W2)] }),
      ],
    });
    const v = tf.tensor1d(V);
    const x = tf.tensor2d([X]);
    const score = (input: tf.Tensor) => tf.sum(tf.mul(model.apply(input) as tf.Tensor, v)) as tf.Scalar;
    const guided = withBackendGapFixesSync(() => tf.grad(score)(x), { gradients: guidedOverrides() });
    await expectClose(guided, handGradient((g, z) => (z > 0 ? relu(g) : 0)), 1e-6);
    tf.dispose([v, x, guided]);
    model.dispose();
  });

  it('max pooling: guided only with maxPool: true, routing relu(g) to each window maximum', async () => {
    // 4×4 input, 2×2 windows: maxima at known positions; g mixed in sign.
    const values = [1, 3, -1, -2, 0, 2, -3, -0.5, 5, 4, 0.5, 0.25, 1, 2, 0.75, 1.5];
    const x = tf.tensor4d(values, [1, 4, 4, 1]);
    const v = tf.tensor4d([2, -1, -3, 0.5], [1, 2, 2, 1]);
    const score = (input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid'), v)) as tf.Scalar;
    // Window maxima: 3 at index 1, −0.5 at index 7, 5 at index 8, 1.5 at index 15.
    const routed = (g: number[]) => {
      const dx = new Array(16).fill(0);
      [1, 7, 8, 15].forEach((index, w) => (dx[index] = g[w]));
      return dx;
    };
    const ordinary = withBackendGapFixesSync(() => tf.grad(score)(x), { gradients: guidedOverrides() });
    const guided = withBackendGapFixesSync(() => tf.grad(score)(x), { gradients: guidedOverrides({ maxPool: true }) });
    await expectClose(ordinary, routed([2, -1, -3, 0.5]), 0);
    await expectClose(guided, routed([2, 0, 0, 0.5]), 0);
    tf.dispose([x, v, ordinary, guided]);
  });
});

describe('gradient overrides: a rule reading a stacked reference batch (DeepLift rescale)', () => {
  it('attributions of the rescale rule on [x; x0] sum to f(x) − f(x0)', async () => {
    // Rescale at a ReLU run on [inputs; references]: multiplier m = (relu(a) − relu(b)) / (a − b) for the
    // input half a and the reference half b (the gradient where a ≈ b); the reference half gets none.
    const rescale: GradientOverride = {
      kernelName: 'Relu',
      gradient: () => ({
        inputsToSave: ['x'],
        gradFunc: (dy, [stacked]) => ({
          x: () => {
            const half = stacked.shape[0] / 2;
            const [a, b] = tf.split(stacked, 2, 0);
            const difference = tf.sub(a, b);
            const close = tf.less(tf.abs(difference), 1e-7);
            const ratio = tf.div(tf.sub(tf.relu(a), tf.relu(b)), tf.where(close, tf.onesLike(difference), difference));
            const multiplier = tf.where(close, tf.step(a), ratio);
            const [dyA] = tf.split(dy as tf.Tensor, 2, 0);
            return tf.concat([tf.mul(dyA, multiplier), tf.zeros([half, ...stacked.shape.slice(1)])], 0);
          },
        }),
      }),
    };
    const net = tinyNet(tf.relu);
    const x = tf.tensor2d([X, [0.3, 0.4, -1]]);
    const reference = tf.tensor2d([[0.2, -0.1, 0.3], [0.3, 0.4, -1]]);
    const perExample = (v: tf.Tensor) => tf.stack([0, 1].map((i) => net.score(tf.slice(v, [i, 0], [1, 3]))));
    // The net runs once on the stacked batch (its score sums the rows), so the ReLU sees both halves.
    const multipliers = withBackendGapFixesSync(
      () => tf.slice(tf.grad(net.score)(tf.concat([x, reference], 0)), [0, 0], [2, 3]),
      { gradients: [rescale] },
    );
    const attributions = tf.sum(tf.mul(tf.sub(x, reference), multipliers), 1);
    const delta = tf.sub(perExample(x), perExample(reference));
    await expectClose(attributions, delta, 1e-6);
    // The second example equals its reference: zero attribution.
    expect(Math.abs((await attributions.data())[1])).toBe(0);
    tf.dispose([x, reference, multipliers, attributions, delta]);
    net.dispose();
  });
});

describe('gradient overrides: the scope', () => {
  const doubleRelu: GradientOverride = {
    kernelName: 'Relu',
    gradient: (original) => original && { ...original, gradFunc: (dy, saved, attrs) => original.gradFunc(tf.mul(dy as tf.Tensor, 2), saved, attrs) },
  };
  const reluGradientAt = (x: tf.Tensor) => tf.grad((v: tf.Tensor) => tf.sum(tf.relu(v)) as tf.Scalar)(x);

  it('the innermost scope wins, the outer rule returns when it closes, the registry is restored', async () => {
    const original = tf.getGradient('Relu');
    const x = tf.tensor1d([-1, 2]);
    const values = await expectNoLeak(() =>
      withBackendGapFixesSync(
        () => {
          const outer = reluGradientAt(x);
          const inner = withBackendGapFixesSync(() => reluGradientAt(x), { gradients: [doubleRelu] });
          const plainInner = withBackendGapFixesSync(() => reluGradientAt(x));
          const outerAgain = reluGradientAt(x);
          const result = [outer, inner, plainInner, outerAgain].map((t) => Array.from(t.dataSync()));
          tf.dispose([outer, inner, plainInner, outerAgain]);
          return result;
        },
        { gradients: deconvolutionOverrides() },
      ),
    );
    // deconvolution: relu(dy) = 1 everywhere; doubled plain gradient: 2·1[x > 0].
    expect(values).toEqual([[1, 1], [0, 2], [1, 1], [1, 1]]);
    expect(tf.getGradient('Relu')).toBe(original);
    x.dispose();
  });

  it('restores the exact gradient objects after an error, and removes entries it added', () => {
    const before = snapshotRegistry();
    expect(() =>
      withBackendGapFixesSync(
        () => {
          throw new Error('boom with overrides');
        },
        { gradients: [...guidedOverrides({ maxPool: true }), doubleRelu] },
      ),
    ).toThrow('boom with overrides');
    expectRegistry(before);
    const invented: GradientOverride = { kernelName: 'GlassboxInventedKernel', gradient: () => ({ gradFunc: () => ({}) }) };
    withBackendGapFixesSync(() => expect(tf.getGradient('GlassboxInventedKernel')).toBeDefined(), { gradients: [invented] });
    expect(tf.getGradient('GlassboxInventedKernel')).toBeUndefined();
  });

  it('keeps the gradient when the builder returns undefined', () => {
    const original = tf.getGradient('Sigmoid');
    withBackendGapFixesSync(() => expect(tf.getGradient('Sigmoid')).toBe(original), {
      gradients: [{ kernelName: 'Sigmoid', gradient: () => undefined }],
    });
  });

  it('rejects malformed overrides and overrides in the asynchronous scope, naming the option', async () => {
    const run = (gradients: unknown) => () => withBackendGapFixesSync(() => 1, { gradients: gradients as GradientOverride[] });
    expect(run('guided')).toThrow(GlassboxArgumentError);
    expect(run('guided')).toThrow(/options\.gradients: expected an array of gradient overrides, got "guided"/);
    expect(run([{ kernelName: 'Relu' }])).toThrow(/options\.gradients\[0\]\.gradient: expected a function/);
    expect(run([{ gradient: () => undefined }])).toThrow(/options\.gradients\[0\]: expected \{ kernelName: string/);
    await expect(withBackendGapFixes(async () => 1, { gradients: guidedOverrides() } as never)).rejects.toThrow(
      /withBackendGapFixes: options\.gradients: unknown option.*withBackendGapFixesSync only/,
    );
    expect(() => withBackendGapFixesSync(() => 1, { zeroFilterGradient: true } as never)).toThrow(
      /options\.zeroFilterGradient: unknown option; valid options are zeroFilterGradients, constants, cache, gradients/,
    );
  });
});
