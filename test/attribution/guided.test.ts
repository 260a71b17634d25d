import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { guidedBackpropIntegratedGradients, integratedGradients, saliency } from '../../src/index';
import { quadrature } from '../../src/advanced';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

/** f(x) = w2 · relu(W1 x): guided backprop passes relu(w2) ⊙ 1[W1 x > 0] back through W1. */
function reluNet(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [5], units: 7, activation: 'relu', useBias: false }),
      tfl.layers.dense({ units: 1, useBias: false }),
    ],
  });
  return setSeededWeights(model, 3, 1);
}

describe('guidedBackpropIntegratedGradients', () => {
  it('integrates the guided-backprop gradient, computed independently in plain JS', async () => {
    const model = reluNet();
    const x = seededTensor([2, 5], 17, 2);
    const [W1, w2] = await Promise.all(model.getWeights().map((w) => w.data()));
    const xs = await x.data();
    const steps = 6;
    const { alphas, weights } = quadrature('gausslegendre', steps);
    const expected = new Float32Array(10);
    for (let e = 0; e < 2; e++) {
      for (let k = 0; k < steps; k++) {
        const point = Array.from({ length: 5 }, (_, i) => alphas[k] * xs[e * 5 + i]);
        for (let j = 0; j < 7; j++) {
          let h = 0;
          for (let i = 0; i < 5; i++) h += point[i] * W1[i * 7 + j];
          const passed = h > 0 ? Math.max(w2[j], 0) : 0;
          for (let i = 0; i < 5; i++) expected[e * 5 + i] += weights[k] * W1[i * 7 + j] * passed * xs[e * 5 + i];
        }
      }
    }
    const guided = await expectNoLeak(() => guidedBackpropIntegratedGradients(model, x, { steps }));
    await expectClose(guided, expected, 1e-5);
    // Plain IG differs (negative w2 entries pass there), and tfjs's own gradients are restored afterwards.
    const plain = await integratedGradients(model, x, { steps });
    expect(Array.from(await plain.data())).not.toEqual(Array.from(await guided.data()));
    const grad = await saliency(model, x, { abs: false });
    const direct = tf.grad((v: tf.Tensor) => tf.sum(model.predict(v) as tf.Tensor))(x);
    await expectClose(grad, direct, 1e-6);
    [x, guided, plain, grad, direct].forEach((t) => t.dispose());
  });

  it('restores the gradients after an error and leaks nothing', async () => {
    const model = reluNet();
    const x = seededTensor([1, 5], 2);
    const before = tf.getGradient('Relu');
    await expectRejectsWithoutLeak(() => guidedBackpropIntegratedGradients(model, x, { target: 4 }), /options\.target: index 4 is out of range/);
    expect(tf.getGradient('Relu')).toBe(before);
    x.dispose();
  });
});
