/**
 * Layer attribution against independent computations: layer IG and conductance against a float64 JS
 * MLP (Captum's discretisation for conductance), layer IG on a diagonal linear layer against input IG,
 * gradient × activation against tf.grad of the model's head split off by hand, completeness, chunking,
 * progress, abort and errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { integratedGradients, layerActivation, layerConductance, layerGradientXActivation, layerIntegratedGradients, type QuadratureMethod } from '../../src/index';
import { quadrature } from '../../src/advanced';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { denseWeights, forward, gradient, lerp, rows, type DenseWeights } from './reference';

const [D, CLASSES] = [5, 3];

/** 'first' (tanh, 6) → 'hidden' (softplus, 4) → 'logits' (3), and the same network in float64 JS. */
function mlp(seed = 3) {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [D], units: 6, activation: 'tanh', name: 'first' }),
      tfl.layers.dense({ units: 4, activation: 'softplus', name: 'hidden' }),
      tfl.layers.dense({ units: CLASSES, name: 'logits' }),
    ],
  });
  setSeededWeights(model, seed, 0.8);
  const js: DenseWeights[] = [
    denseWeights(model.getLayer('first'), 'tanh'),
    denseWeights(model.getLayer('hidden'), 'softplus'),
    denseWeights(model.getLayer('logits'), 'linear'),
  ];
  return { model, js };
}

/** f_c(x) − f_c(b) per example, from the JS network. */
function scoreDifferences(js: DenseWeights[], xs: number[][], bs: number[][], targets: number[]): number[] {
  return xs.map((x, e) => forward(js, x)[targets[e]] - forward(js, bs[e % bs.length])[targets[e]]);
}

/** Per-example sums of an attribution `[N, ...]`. */
async function perExampleSums(attribution: tf.Tensor): Promise<number[]> {
  const values = await attribution.data();
  const width = values.length / attribution.shape[0];
  return rows(values, width).map((r) => r.reduce((a, b) => a + b, 0));
}

describe('layerIntegratedGradients', () => {
  const { model, js } = mlp();
  const x = seededTensor([3, D], 5, 1.5);
  const baseline = seededTensor([1, D], 6, 0.5);
  const targets = [0, 2, 1];
  afterAll(() => tf.dispose([x, baseline]));

  it('is IG at the layer output along y₀ + α(y − y₀): a float64 reference, and complete', async () => {
    const steps = 16;
    const { alphas, weights } = quadrature('gausslegendre', steps);
    const xs = rows(await x.data(), D);
    const b = Array.from(await baseline.data());
    const expected = xs.flatMap((xe, e) => {
      const y = forward([js[0]], xe);
      const y0 = forward([js[0]], b);
      const integral = y.map(() => 0);
      alphas.forEach((alpha, k) => gradient(js.slice(1), lerp(y0, y, alpha), targets[e]).forEach((g, j) => (integral[j] += weights[k] * g)));
      return y.map((v, j) => (v - y0[j]) * integral[j]);
    });
    const lig = await expectNoLeak(() => layerIntegratedGradients(model, x, { layer: 'first', target: targets, steps, baseline }));
    expect(lig.shape).toEqual([3, 6]);
    await expectClose(lig, expected, 1e-5);
    const sums = await perExampleSums(lig);
    scoreDifferences(js, xs, [b], targets).forEach((difference, e) => expect(sums[e]).toBeCloseTo(difference, 4));
    const chunked = await layerIntegratedGradients(model, x, { layer: 'first', target: targets, steps, baseline, batchSize: 5 });
    await expectClose(chunked, lig, 1e-6);
    tf.dispose([lig, chunked]);
  });

  it('equals input IG when the layer is diagonal and linear: y = d ⊙ x + c', async () => {
    const scale = tfl.layers.dense({ inputShape: [4], units: 4, name: 'scale' });
    const net = setSeededWeights(
      tfl.sequential({ layers: [scale, tfl.layers.dense({ units: 5, activation: 'tanh' }), tfl.layers.dense({ units: 2 })] }),
      9,
      0.9,
    );
    const diagonal = tf.tidy(() => tf.mul(tf.eye(4), tf.tensor1d([0.5, -1.5, 2, 0.8])));
    const bias = tf.tensor1d([0.1, -0.2, 0.3, 0]);
    scale.setWeights([diagonal, bias]);
    const input = seededTensor([2, 4], 10, 2);
    for (const method of ['gausslegendre', 'riemann_trapezoid'] as QuadratureMethod[]) {
      const options = { target: 1, steps: 12, method, baseline: 0.3 };
      const lig = await expectNoLeak(() => layerIntegratedGradients(net, input, { ...options, layer: 'scale' }));
      const ig = await integratedGradients(net, input, options);
      await expectClose(lig, ig, 1e-5);
      tf.dispose([lig, ig]);
    }
    tf.dispose([diagonal, bias, input]);
    net.dispose();
  });

  it('reports progress over 2N + N·steps rows and aborts without leaking', async () => {
    const progress: [number, number][] = [];
    const lig = await layerIntegratedGradients(model, x, { layer: 'hidden', target: 0, steps: 4, batchSize: 5, onProgress: (d, t) => progress.push([d, t]) });
    expect(progress.at(-1)).toEqual([18, 18]);
    expect(progress.map(([d]) => d)).toEqual([5, 6, 11, 16, 18]);
    lig.dispose();
    const controller = new AbortController();
    const aborting = { layer: 'hidden', target: 0, steps: 4, batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() };
    await expectRejectsWithoutLeak(() => layerIntegratedGradients(model, x, aborting), /aborted/);
  });
});

describe('layerConductance', () => {
  const { model, js } = mlp(7);
  const x = seededTensor([3, D], 11, 1.5);
  const targets = [1, 0, 2];
  afterAll(() => x.dispose());

  /** Captum's discretisation in float64: Σ_{k<steps} ∂f/∂y(x_k) ⊙ (y(x_{k+1}) − y(x_k)), with steps + 1 points of `method`. */
  function reference(xs: number[][], b: number[], steps: number, method: QuadratureMethod): number[] {
    const { alphas } = quadrature(method, steps + 1);
    return xs.flatMap((xe, e) => {
      const ys = Array.from(alphas, (alpha) => forward([js[0]], lerp(b, xe, alpha)));
      const total = ys[0].map(() => 0);
      for (let k = 0; k < steps; k++) {
        const g = gradient(js.slice(1), ys[k], targets[e]);
        g.forEach((gj, j) => (total[j] += gj * (ys[k + 1][j] - ys[k][j])));
      }
      return total;
    });
  }

  it("matches Captum's discretisation (float64 reference) whatever the chunking", async () => {
    const xs = rows(await x.data(), D);
    const expected = reference(xs, new Array(D).fill(0.25), 6, 'gausslegendre');
    for (const batchSize of [1, 4, 'auto'] as const) {
      const cond = await expectNoLeak(() => layerConductance(model, x, { layer: 'first', target: targets, steps: 6, baseline: 0.25, batchSize }));
      expect(cond.shape).toEqual([3, 6]);
      await expectClose(cond, expected, 1e-5);
      cond.dispose();
    }
  });

  it('is complete up to the discretisation, tighter with more steps', async () => {
    const xs = rows(await x.data(), D);
    const differences = scoreDifferences(js, xs, [new Array(D).fill(0)], targets);
    const gap = async (steps: number, method: QuadratureMethod) => {
      const cond = await layerConductance(model, x, { layer: 'first', target: targets, steps, method });
      const sums = await perExampleSums(cond);
      cond.dispose();
      return Math.max(...sums.map((s, e) => Math.abs(s - differences[e])));
    };
    const scale = Math.max(...differences.map(Math.abs));
    const [coarse, fine] = [await gap(4, 'riemann_trapezoid'), await gap(64, 'riemann_trapezoid')];
    expect(fine).toBeLessThan(coarse / 8);
    expect(fine).toBeLessThan(0.02 * scale);
    expect(await gap(50, 'gausslegendre')).toBeLessThan(0.02 * scale);
  });
});

describe('layerGradientXActivation and layerActivation', () => {
  const { model } = mlp(13);
  const x = seededTensor([4, D], 17, 1.5);
  afterAll(() => x.dispose());
  // The network split by hand: A from a sub-model up to 'hidden', the head applied to A.
  const featureModel = tfl.model({ inputs: model.inputs, outputs: model.getLayer('hidden').output as tfl.SymbolicTensor });
  const head = (a: tf.Tensor) => model.getLayer('logits').apply(a) as tf.Tensor;

  it('gradient × activation is A ⊙ ∂f_c/∂A of the split network', async () => {
    const targets = [2, 0, 1, 1];
    const expected = tf.tidy(() => {
      const a = featureModel.predict(x) as tf.Tensor;
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(head(v), tf.oneHot(tf.tensor1d(targets, 'int32'), CLASSES))))(a);
      return tf.mul(a, g);
    });
    const gxa = await expectNoLeak(() => layerGradientXActivation(model, x, { layer: 'hidden', target: targets, batchSize: 3 }));
    await expectClose(gxa, expected, 1e-5);
    tf.dispose([gxa, expected]);
  });

  it('layer activation is the sub-model output, and needs no output choice on a multi-output model', async () => {
    const expected = featureModel.predict(x) as tf.Tensor;
    const activation = await expectNoLeak(() => layerActivation(model, x, { layer: 'hidden', batchSize: 3 }));
    await expectClose(activation, expected, 1e-6);
    const twoHeads = tfl.model({ inputs: model.inputs, outputs: [model.outputs[0], featureModel.outputs[0]] });
    const again = await layerActivation(twoHeads, x, { layer: 'hidden' });
    await expectClose(again, expected, 1e-6);
    tf.dispose([expected, activation, again]);
  });

  it('rejects unknown, missing and shared layers, other models and unknown options', async () => {
    await expectRejectsWithoutLeak(
      () => layerIntegratedGradients(model, x, { layer: 'nope', target: 0 }),
      /options\.layer: the model has no layer named "nope"; its layers are: first, hidden, logits/,
    );
    await expectRejectsWithoutLeak(() => layerActivation(model, x, {} as never), /options\.layer: expected a layer name, got undefined/);
    await expectRejectsWithoutLeak(
      () => layerConductance((v: tf.Tensor) => model.predict(v) as tf.Tensor, x, { layer: 'hidden', target: 0 }),
      /model: layerConductance needs a tf\.LayersModel \(its inner layers are read\), got a function/,
    );
    const shared = tfl.layers.dense({ units: D, activation: 'tanh', name: 'shared' });
    const input = tfl.input({ shape: [D] });
    const twice = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(shared.apply(shared.apply(input))) as tfl.SymbolicTensor });
    await expectRejectsWithoutLeak(
      () => layerGradientXActivation(twice, x, { layer: 'shared', target: 0 }),
      /options\.layer: layer "shared" runs 2 times in the model; its output is ambiguous/,
    );
    await expectRejectsWithoutLeak(() => layerActivation(model, x, { layer: 'hidden', target: 0 } as never), /options\.target: unknown option/);
    await expectRejectsWithoutLeak(() => layerConductance(model, x, { layer: 'hidden', target: 0, steps: 0 }), /options\.steps: expected an integer >= 1/);
    await expectRejectsWithoutLeak(
      () => layerIntegratedGradients(model, x, { layer: 'hidden', target: 0, nSteps: 8 } as never),
      /options\.nSteps: unknown option; Captum's\/Zennit's 'nSteps' is called 'steps' here/,
    );
    const badBaseline = tf.zeros([2, D]);
    await expectRejectsWithoutLeak(
      () => layerIntegratedGradients(model, x, { layer: 'hidden', target: 0, baseline: badBaseline }),
      /options\.baseline: expected shape \[4, 5\] \(like the input\), \[1, 5\] \(one example\) or \[5\]/,
    );
    badBaseline.dispose();
    twice.dispose();
  });
});
