/**
 * LRP on converted TensorFlow GraphModels, on small hand-written graphs (every backend): the compiled
 * program computes the model's output; LRP-0 equals gradient × input and conserves the logit on a
 * bias-free piecewise-linear graph (Conv2D + BiasAdd, depthwise, Mul by a constant, ConcatV2, a fused
 * conv, a residual AddV2, MaxPool, Pad, AvgPool, Reshape, MatMul); FusedBatchNorm merges; a final
 * sigmoid is stripped; unknown ops are named and can be registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { compileGraphModel } from '../../src/attribution/lrp/graph-model';
import { forwardValues } from '../../src/attribution/lrp/propagate';
import { canonizers, composites, lrp, registerLrpOp, rules } from '../../src/index';
import { withBackendGapFixesSync } from '../../src/advanced';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { batchNormGraph, convGraph, logisticGraph, negationGraph, type MemoryGraphModel } from './graph-models';

/** Gradient × input of the node `logits`, for `target`, by autodiff through the GraphModel itself. */
function gradientTimesInput(model: MemoryGraphModel, x: tf.Tensor, logits: string, target: number[]): [tf.Tensor, tf.Tensor1D] {
  return withBackendGapFixesSync(() => tf.tidy(() => {
    const onehot = (o: tf.Tensor) => tf.oneHot(tf.tensor1d(target, 'int32'), o.shape[1]!);
    const score = (v: tf.Tensor) => {
      const o = model.execute(v, logits) as tf.Tensor;
      return tf.mul(o, onehot(o));
    };
    return [tf.mul(x, tf.grad((v: tf.Tensor) => tf.sum(score(v)))(x)), tf.sum(score(x), 1) as tf.Tensor1D] as [tf.Tensor, tf.Tensor1D];
  }));
}

describe('LRP on GraphModels', () => {
  const conv = convGraph();
  const x = seededTensor([2, 6, 6, 2], 201, 1.5);
  afterAll(() => {
    x.dispose();
    conv.dispose();
  });

  it('compiles faithfully: BiasAdd folded into its conv, the constant Mul an affine step (until canonized), the softmax left out', async () => {
    const program = await compileGraphModel(conv, { composite: composites.epsilon(), canonize: [] });
    expect(program.strippedActivation).toBe('softmax');
    expect(program.steps.map((s) => s.className)).not.toContain('BiasAdd');
    expect(program.steps.filter((s) => s.kind === 'affine').map((s) => s.className)).toEqual(['Mul']);
    const [ours, theirs] = tf.tidy(() => [tf.softmax(forwardValues(program, x)[program.output]), conv.predict(x) as tf.Tensor]);
    await expectClose(ours, theirs, 1e-5);
    [ours, theirs].forEach((t) => t.dispose());
    program.dispose();
  });

  it('LRP-0 equals gradient × input of the logits and conserves them (bias-free, piecewise linear)', async () => {
    const target = [2, 0];
    const relevance = await expectNoLeak(() => lrp(conv, x, { target, composite: 'epsilon', epsilon: 0 }));
    const [reference, logits] = gradientTimesInput(conv, x, 'logits', target);
    await expectClose(relevance, reference, 1e-4);
    const sums = tf.sum(relevance, [1, 2, 3]);
    await expectClose(sums, logits, 1e-4);
    expect((await tf.sum(tf.abs(relevance)).data())[0]).toBeGreaterThan(1e-3);
    [relevance, reference, logits, sums].forEach((t) => t.dispose());
  });

  it('runs every named composite, gives the relevance at a node, and leaks nothing', async () => {
    for (const composite of ['epsilon-plus-flat', 'epsilon-alpha2-beta1', 'epsilon-gamma-box'] as const) {
      const bounds = composite === 'epsilon-gamma-box' ? { low: -1.5, high: 1.5 } : {};
      const relevance = await expectNoLeak(() => lrp(conv, x, { target: 1, composite, ...bounds }));
      const values = await relevance.data();
      expect(values.every(Number.isFinite) && values.some((v) => Math.abs(v) > 1e-6)).toBe(true);
      relevance.dispose();
    }
    const atNode = await lrp(conv, x, { target: 1, layer: 'r1' });
    expect(atNode.shape).toEqual([2, 6, 6, 4]);
    atNode.dispose();
  });

  it('FusedBatchNormV3 after a conv merges into it (MergeBatchNorm), output unchanged', async () => {
    const model = batchNormGraph();
    const merged = await compileGraphModel(model, { composite: composites.epsilon(), canonize: [canonizers.mergeBatchNorm] });
    const unmerged = await compileGraphModel(model, { composite: composites.epsilon(), canonize: [] });
    expect(merged.steps.filter((s) => s.kind === 'batchnorm')).toHaveLength(0);
    expect(unmerged.steps.filter((s) => s.kind === 'batchnorm')).toHaveLength(1);
    const input = seededTensor([2, 4, 4, 2], 202, 1.5);
    const [a, b, c] = tf.tidy(() => [forwardValues(merged, input)[merged.output], forwardValues(unmerged, input)[unmerged.output], model.predict(input) as tf.Tensor]);
    await expectClose(a, c, 1e-5);
    await expectClose(b, c, 1e-5);
    const relevance = await expectNoLeak(() => lrp(model, input, { target: 1, composite: 'epsilon-plus' }));
    expect(Array.from(await relevance.data()).every(Number.isFinite)).toBe(true);
    [input, a, b, c, relevance].forEach((t) => t.dispose());
    [merged, unmerged].forEach((p) => p.dispose());
    model.dispose();
  });

  it('a final Sigmoid is stripped: logistic regression keeps the signs of x·w = [0.2, −2.0, 0.1]', async () => {
    const model = logisticGraph();
    const input = tf.tensor2d([[2, 4, 0.5]]);
    const relevance = await expectNoLeak(() => lrp(model, input, { target: 0, composite: 'epsilon' }));
    await expectClose(relevance, [0.2, -2.0, 0.1], 1e-5);
    [input, relevance].forEach((t) => t.dispose());
    model.dispose();
  });

  it('an unknown op is an error naming the node, the op and registerLrpOp; registered, it works', async () => {
    const model = negationGraph();
    const input = seededTensor([2, 3], 203, 2);
    await expectRejectsWithoutLeak(() => lrp(model, input, { target: 0 }), /node "flip" \(op Neg\) is not supported by LRP\. Describe the op once with registerLrpOp\('Neg'/);
    registerLrpOp('Neg', { kind: 'activation', forward: ([v]) => tf.neg(v) });
    const relevance = await expectNoLeak(() => lrp(model, input, { target: 1, composite: 'epsilon', epsilon: 0 }));
    const [reference, logits] = gradientTimesInput(model, input, 'logits', [1, 1]);
    await expectClose(relevance, reference, 1e-5);
    const sums = tf.sum(relevance, 1);
    await expectClose(sums, logits, 1e-5);
    const byClass = await lrp(model, input, { target: 1, layerRules: { byClass: { Neg: rules.gradient() } } });
    expect(byClass.shape).toEqual([2, 3]);
    [input, relevance, reference, logits, sums, byClass].forEach((t) => t.dispose());
    expect(() => registerLrpOp('Foo', { kind: 'activation' })).toThrow(/spec.forward: expected the op's forward pass/);
    model.dispose();
  });
});
