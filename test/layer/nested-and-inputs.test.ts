/**
 * Layers inside a nested model (the transfer-learning shape `Sequential([base, head])`) give what the
 * same network built flat gives; models with several inputs: completeness with one baseline per input,
 * neuron gradients per input against tf.grads, and Captum's semantics for an input that bypasses the layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { layerConductance, layerGradientXActivation, layerIntegratedGradients, neuronGradient, neuronIntegratedGradients } from '../../src/index';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

/** Sum of each example's attribution, `[n]`, over one tensor or several. */
function perExample(attribution: tf.Tensor | tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => tf.addN((Array.isArray(attribution) ? attribution : [attribution]).map((a) => tf.sum(tf.reshape(a, [a.shape[0], -1]), 1))) as tf.Tensor1D);
}

/** `model(x)[:, c] − model(b)[:, c]`. */
function difference(model: tfl.LayersModel, x: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[], c: number): tf.Tensor1D {
  return tf.tidy(() => {
    const column = (v: tf.Tensor | tf.Tensor[]) => tf.reshape(tf.slice(model.predict(v) as tf.Tensor, [0, c], [-1, 1]), [-1]);
    return tf.sub(column(x), column(b)) as tf.Tensor1D;
  });
}

describe('layers inside a nested model', () => {
  it('are reached by name and attributed as in the same network built flat', async () => {
    const flat = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [4], units: 5, activation: 'tanh', name: 'flat_a' }),
          tfl.layers.dense({ units: 3, activation: 'softplus', name: 'flat_b' }),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
      31,
      0.8,
    );
    const base = tfl.sequential({
      name: 'base',
      layers: [
        tfl.layers.dense({ inputShape: [4], units: 5, activation: 'tanh', name: 'inner_a' }),
        tfl.layers.dense({ units: 3, activation: 'softplus', name: 'inner_b' }),
      ],
    });
    const nested = tfl.sequential({ layers: [base, tfl.layers.dense({ units: 2 })] });
    nested.setWeights(flat.getWeights());
    const x = seededTensor([2, 4], 33, 1.5);
    const pairs: [string, string, (m: tfl.LayersModel, layer: string) => Promise<tf.Tensor>][] = [
      ['inner_a', 'flat_a', (m, layer) => layerIntegratedGradients(m, x, { layer, target: 1, steps: 8 })],
      ['inner_b', 'flat_b', (m, layer) => layerGradientXActivation(m, x, { layer, target: 0 })],
      ['inner_a', 'flat_a', (m, layer) => layerConductance(m, x, { layer, target: 1, steps: 4 })],
      ['inner_b', 'flat_b', (m, layer) => neuronGradient(m, x, { layer, neuron: [2] })],
      // The nested model by its own name: its output, which is inner_b's.
      ['base', 'flat_b', (m, layer) => layerIntegratedGradients(m, x, { layer, target: 0, steps: 8 })],
    ];
    for (const [inner, outer, method] of pairs) {
      const a = await expectNoLeak(() => method(nested, inner));
      const b = await method(flat, outer);
      await expectClose(a, b, 1e-6);
      tf.dispose([a, b]);
    }
    x.dispose();
    nested.dispose();
    flat.dispose();
  });
});

describe('models with several inputs', () => {
  /** a [3] and b [2] → concatenate → 'joint' (tanh, 4) → dense(2); every path passes through 'joint'. */
  function twoInputs() {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [2] });
    const joint = tfl.layers.dense({ units: 4, activation: 'tanh', name: 'joint' }).apply(tfl.layers.concatenate().apply([a, b])) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: tfl.layers.dense({ units: 2 }).apply(joint) as tfl.SymbolicTensor }), 41, 0.9);
    return { model, jointModel: tfl.model({ inputs: [a, b], outputs: joint }) };
  }

  it('layer IG and conductance with one baseline per input are complete: Σ = f(x) − f(b)', async () => {
    const { model } = twoInputs();
    const x = [seededTensor([3, 3], 43, 1.5), seededTensor([3, 2], 44, 1.5)];
    const baseline = [0.5, seededTensor([1, 2], 45)];
    const lig = await expectNoLeak(() => layerIntegratedGradients(model, x, { layer: 'joint', target: 1, steps: 32, baseline }));
    expect(lig.shape).toEqual([3, 4]);
    const b = [tf.fill([3, 3], 0.5), tf.tile(baseline[1] as tf.Tensor, [3, 1])];
    const [sums, expected] = [perExample(lig), difference(model, x, b, 1)];
    await expectClose(sums, expected, 1e-4);
    // Conductance interpolates every input along the path: a first-order sum, close at 64 steps.
    const cond = await layerConductance(model, x, { layer: 'joint', target: 1, steps: 64, method: 'riemann_trapezoid', baseline });
    const condSums = perExample(cond);
    await expectClose(condSums, expected, 2e-2);
    tf.dispose([...x, baseline[1] as tf.Tensor, ...b, lig, sums, expected, cond, condSums]);
    model.dispose();
  });

  it('neuron gradient and neuron IG give one tensor per input, as tf.grads of the unit', async () => {
    const { model, jointModel } = twoInputs();
    const x = [seededTensor([2, 3], 47, 1.5), seededTensor([2, 2], 48, 1.5)];
    const unit = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.slice(jointModel.apply([a, b]) as tf.Tensor, [0, 1], [-1, 1]));
    const expected = tf.tidy(() => tf.grads(unit)(x));
    const g = await expectNoLeak(() => neuronGradient(model, x, { layer: 'joint', neuron: [1] }));
    expect(g.length).toBe(2);
    for (let i = 0; i < 2; i++) await expectClose(g[i], expected[i], 1e-5);
    const nig = await expectNoLeak(() => neuronIntegratedGradients(model, x, { layer: 'joint', neuron: [1], steps: 32 }));
    const change = tf.tidy(() => tf.sub(tf.slice(jointModel.predict(x) as tf.Tensor, [0, 1], [-1, 1]), tf.slice(jointModel.predict([tf.zerosLike(x[0]), tf.zerosLike(x[1])]) as tf.Tensor, [0, 1], [-1, 1])));
    const sums = perExample(nig);
    await expectClose(sums, change, 1e-4);
    tf.dispose([...x, ...expected, ...g, ...nig, change, sums]);
    model.dispose();
  });

  it("an input that bypasses the layer keeps its value on the path (Captum's semantics): Σ = f(a, b) − f(a₀, b)", async () => {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [2] });
    const branch = tfl.layers.dense({ units: 3, activation: 'tanh', name: 'branch' }).apply(a) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 1, activation: 'tanh' }).apply(tfl.layers.concatenate().apply([branch, b])) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: out }), 51, 1);
    const x = [seededTensor([2, 3], 52, 1.5), seededTensor([2, 2], 53, 1.5)];
    const lig = await layerIntegratedGradients(model, x, { layer: 'branch', steps: 32 });
    const [sums, expected] = [perExample(lig), difference(model, x, [tf.zerosLike(x[0]), x[1]], 0)];
    await expectClose(sums, expected, 1e-4);
    tf.dispose([...x, lig, sums, expected]);
    model.dispose();
  });
});
