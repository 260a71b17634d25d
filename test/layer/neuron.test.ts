/**
 * Neuron attribution: the gradient of one unit of a conv layer against tf.grad of a sub-model that ends
 * at the layer, neuron IG against input IG of that sub-model's unit and completeness, index errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { integratedGradients, neuronGradient, neuronIntegratedGradients } from '../../src/index';
import { withBackendGapFixesSync } from '../../src/advanced';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const [H, W, C, K] = [6, 6, 2, 3];

/** conv 'features' (tanh, K) → flatten → dense(2), and the sub-model that ends at 'features'. */
function convNet() {
  const input = tfl.input({ shape: [H, W, C] });
  const features = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'features' }).apply(input) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(features)) as tfl.SymbolicTensor;
  const model = setSeededWeights(tfl.model({ inputs: input, outputs: output }), 21, 0.7);
  return { model, featureModel: tfl.model({ inputs: input, outputs: features }) };
}

describe('neuron attribution', () => {
  const { model, featureModel } = convNet();
  const x = seededTensor([3, H, W, C], 23);
  const neuron = [1, 4, 2];
  /** The neuron's value per example, `[n]`, through the sub-model. */
  const unit = (v: tf.Tensor) => tf.reshape(tf.slice(featureModel.apply(v) as tf.Tensor, [0, ...neuron], [v.shape[0], 1, 1, 1]), [v.shape[0], 1]);
  afterAll(() => x.dispose());

  it('neuronGradient is the gradient of the unit of the sub-model ending at the layer', async () => {
    // wasm has no Conv2DBackpropFilter, which tfjs's tape evaluates for the kernel: the gap fixes supply it.
    const expected = tf.tidy(() => withBackendGapFixesSync(() => tf.grad((v: tf.Tensor) => tf.sum(unit(v)))(x)));
    const g = await expectNoLeak(() => neuronGradient(model, x, { layer: 'features', neuron, batchSize: 2 }));
    expect(g.shape).toEqual(x.shape);
    await expectClose(g, expected, 1e-5);
    tf.dispose([g, expected]);
  });

  it('neuronIntegratedGradients is input IG of the unit, complete: Σ = A_j(x) − A_j(b)', async () => {
    const options = { steps: 24, baseline: 0.2 };
    const nig = await expectNoLeak(() => neuronIntegratedGradients(model, x, { layer: 'features', neuron, ...options }));
    const ig = await integratedGradients(unit, x, options);
    await expectClose(nig, ig, 1e-5);
    const [sums, values, baseValues] = tf.tidy(() => [
      tf.sum(tf.reshape(nig, [3, -1]), 1),
      tf.reshape(unit(x), [3]),
      tf.reshape(unit(tf.fill(x.shape, 0.2)), [3]),
    ]);
    const [s, v, b] = [await sums.data(), await values.data(), await baseValues.data()];
    Array.from(s).forEach((sum, e) => expect(sum).toBeCloseTo(v[e] - b[e], 4));
    tf.dispose([nig, ig, sums, values, baseValues]);
  });

  it('rejects neuron indices of the wrong length, out of range or not integers, and a target', async () => {
    await expectRejectsWithoutLeak(
      () => neuronGradient(model, x, { layer: 'features', neuron: [1, 2] }),
      /options\.neuron: expected 3 non-negative integers, an index into the output of layer "features" without the batch axis \(shape \[6, 6, 3\]\), got \[1,2\]/,
    );
    await expectRejectsWithoutLeak(
      () => neuronIntegratedGradients(model, x, { layer: 'features', neuron: [1, 2, 3] }),
      /options\.neuron: index 3 on axis 2 is out of range: layer "features" outputs \[6, 6, 3\] per example/,
    );
    await expectRejectsWithoutLeak(() => neuronGradient(model, x, { layer: 'features', neuron: [0.5, 0, 0] }), /options\.neuron: expected 3 non-negative integers/);
    await expectRejectsWithoutLeak(() => neuronGradient(model, x, { layer: 'features', neuron, target: 1 } as never), /options\.target: unknown option/);
  });

  it('checks the index against the actual shape of a layer whose length is fixed only at run time', async () => {
    const input = tfl.input({ shape: [null, 3] });
    const sequence = tfl.layers.conv1d({ filters: 2, kernelSize: 2, padding: 'same', activation: 'tanh', name: 'sequence' }).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 1 }).apply(tfl.layers.globalAveragePooling1d({}).apply(sequence)) as tfl.SymbolicTensor;
    const variable = setSeededWeights(tfl.model({ inputs: input, outputs: output }), 25);
    const steps = seededTensor([2, 4, 3], 26);
    const g = await expectNoLeak(() => neuronGradient(variable, steps, { layer: 'sequence', neuron: [3, 1] }));
    expect(g.shape).toEqual([2, 4, 3]);
    await expectRejectsWithoutLeak(
      () => neuronGradient(variable, steps, { layer: 'sequence', neuron: [9, 1] }),
      /options\.neuron: index 9 on axis 0 is out of range: layer "sequence" outputs \[4, 2\] per example/,
    );
    tf.dispose([g, steps]);
    variable.dispose();
  });
});
