/**
 * LRP through the package's SemanticBottleneck and InvertibleConceptFlow, described by the layers
 * themselves: the compiled program computes the layer's output, relevance is conserved on bias-free
 * models, and the bottleneck's rule is its 1×1 convolution under LRP-0 with its activation passed.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../src/attribution/lrp/graph';
import { forwardValues } from '../../src/attribution/lrp/propagate';
import { composites, layers, lrp } from '../../src/index';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

async function expectFaithful(model: tfl.LayersModel, x: tf.Tensor): Promise<void> {
  const program = compileProgram(model, { composite: composites.epsilon(), canonize: true });
  const [ours, theirs] = tf.tidy(() => [forwardValues(program, x)[program.output], model.predict(x) as tf.Tensor]);
  await expectClose(ours, theirs, 1e-5);
  [ours, theirs].forEach((t) => t.dispose());
  program.dispose();
}

/** Sets every weight whose name matches `pattern` to zero. */
function zeroWeights(model: tfl.LayersModel, pattern: RegExp): void {
  const weights = model.weights.map((w) => (pattern.test(w.originalName) ? tf.zerosLike(w.read()) : w.read().clone()));
  model.setWeights(weights);
  weights.forEach((w) => w.dispose());
}

describe('SemanticBottleneck under LRP', () => {
  const concepts = [{ name: 'colour', size: 2 }, { name: 'shape', size: 3 }];
  const build = (batchNorm: boolean) => {
    const model = tfl.sequential({
      layers: [
        // Softplus, not ReLU: at a pixel whose features are all 0 the logits are 0, the softmax still hands
        // each concept relevance there, and no rule can pass relevance through a zero logit.
        tfl.layers.conv2d({ inputShape: [4, 4, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'softplus', useBias: false, name: 'features' }),
        layers.semanticBottleneck({ concepts, temperature: 0.5, batchNorm, name: 'bottleneck' }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 2, useBias: false, name: 'head' }),
      ],
    });
    setSeededWeights(model, 71, 0.9);
    if (batchNorm) {
      const bottleneck = model.getLayer('bottleneck');
      const [kernel, gamma, beta, mean] = bottleneck.getWeights();
      const variance = tf.tidy(() => tf.add(tf.abs(seededTensor([5], 72)), 0.5));
      bottleneck.setWeights([kernel, gamma, beta, mean, variance]);
      variance.dispose();
    } else {
      zeroWeights(model, /bottleneck.*bias/);
    }
    return model;
  };

  it('its 1×1 convolution is linear under the rules and its activation passes relevance: LRP-0 by hand, conserved', async () => {
    const model = build(false);
    const x = seededTensor([2, 4, 4, 3], 73, 1.5);
    await expectFaithful(model, x);
    const options = { target: [1, 0], composite: 'epsilon' as const, epsilon: 0 };
    const atConcepts = await expectNoLeak(() => lrp(model, x, { ...options, layer: 'bottleneck' }));
    const atFeatures = await lrp(model, x, { ...options, layer: 'features' });
    const [head, features] = [model.getLayer('head'), model.getLayer('features')];
    const [expectedConcepts, expectedFeatures, scores] = tf.tidy(() => {
      const onehot = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 2);
      const h = features.apply(x) as tf.Tensor;
      const p = model.getLayer('bottleneck').apply(h) as tf.Tensor;
      // LRP-0 on the (bias-free, linear) head: gradient × concept probabilities.
      const r = tf.mul(p, tf.grad((v: tf.Tensor) => tf.sum(tf.mul(head.apply(tf.mean(v, [1, 2])) as tf.Tensor, onehot)))(p));
      // Pass through the activation, then LRP-0 of z = h·W (no bias): R_h = h ⊙ W (R / z).
      const kernel = model.getLayer('bottleneck').getWeights()[0] as tf.Tensor2D;
      const z = tf.reshape(tf.matMul(tf.reshape(h, [-1, 4]), kernel), r.shape);
      const ratio = tf.reshape(tf.divNoNan(r, z), [-1, 5]) as tf.Tensor2D; // 0/0 → 0, as LRP-0
      const rh = tf.mul(h, tf.reshape(tf.matMul(ratio, kernel, false, true), h.shape));
      return [r, rh, tf.sum(tf.mul(model.predict(x) as tf.Tensor, onehot), 1)];
    });
    await expectClose(atConcepts, expectedConcepts, 1e-4);
    await expectClose(atFeatures, expectedFeatures, 1e-4);
    const relevance = await lrp(model, x, options);
    const sums = tf.sum(relevance, [1, 2, 3]);
    await expectClose(sums, scores, 1e-4);
    [x, atConcepts, atFeatures, expectedConcepts, expectedFeatures, scores, relevance, sums].forEach((t) => t.dispose());
  });

  it('with batch norm: the normalisation merges into the 1×1 convolution (program output unchanged)', async () => {
    const model = build(true);
    const x = seededTensor([2, 4, 4, 3], 74, 1.5);
    await expectFaithful(model, x);
    const program = compileProgram(model, { composite: composites.epsilon(), canonize: true });
    expect(program.steps.filter((s) => s.kind === 'batchnorm')).toHaveLength(0);
    program.dispose();
    const relevance = await expectNoLeak(() => lrp(model, x, { target: 0 }));
    expect(Array.from(await relevance.data()).every(Number.isFinite)).toBe(true);
    [x, relevance].forEach((t) => t.dispose());
  });
});

describe('InvertibleConceptFlow under LRP', () => {
  it('couplings as gated products (the scales are gates) plus translations: faithful, and conserved without biases', async () => {
    const flow = layers.invertibleConceptFlow({ flows: 2, hidden: 6, depth: 1, seed: 3, name: 'flow' });
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [5], units: 4, useBias: false, name: 'embed' }), flow, tfl.layers.dense({ units: 2, useBias: false })],
    });
    const x = seededTensor([3, 5], 75, 1.5);
    tf.dispose(model.predict(x) as tf.Tensor); // initialises ActNorm from this batch
    zeroWeights(model, /(actnorm\/loc|\/bias)$/);
    await expectFaithful(model, x);
    const relevance = await expectNoLeak(() => lrp(model, x, { target: [0, 1, 1], composite: 'epsilon' }));
    const scores = tf.tidy(() => tf.sum(tf.mul(model.predict(x) as tf.Tensor, tf.oneHot(tf.tensor1d([0, 1, 1], 'int32'), 2)), 1));
    const sums = tf.sum(relevance, 1);
    await expectClose(sums, scores, 1e-4);
    expect((await tf.sum(tf.abs(relevance)).data())[0]).toBeGreaterThan(1e-3);
    [x, relevance, scores, sums].forEach((t) => t.dispose());
  });
});
