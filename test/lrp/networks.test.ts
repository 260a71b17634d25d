/**
 * BatchNorm merging (model output unchanged, user's weights untouched) and end-to-end LRP on a
 * residual network and a MobileNetV2-style stack, with the same numbers on every backend as on cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProgram } from '../../src/attribution/lrp/graph';
import { forwardValues } from '../../src/attribution/lrp/propagate';
import { composites, lrp, type LrpOptions } from '../../src/index';
import { expectClose, expectNoLeak, relativeL1, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { mobileNetStyle, randomizeBatchNorms, residualNet } from './models';

/** Every linear layer kind followed by a BatchNorm, on 6×6×2 images. */
function batchNormNet(): tfl.LayersModel {
  const bn = () => tfl.layers.batchNormalization();
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same' }),
      bn(),
      tfl.layers.reLU(),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false }),
      bn(),
      tfl.layers.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
      bn(),
      tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2 }),
      bn(),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4 }),
      bn(),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  setSeededWeights(model, 13, 0.6);
  randomizeBatchNorms(model, 13);
  return model;
}

describe('MergeBatchNorm canonizer', () => {
  const model = batchNormNet();
  const x = seededTensor([2, 6, 6, 2], 91, 1.5);
  afterAll(() => x.dispose());

  it('folds every BatchNorm into the linear layer before it without changing the output', async () => {
    const program = compileProgram(model, { composite: composites.epsilon(), canonize: true });
    const kept = program.steps.filter((s) => s.kind === 'batchnorm').length;
    const unmerged = compileProgram(model, { composite: composites.epsilon(), canonize: false });
    expect(kept).toBe(0);
    expect(unmerged.steps.filter((s) => s.kind === 'batchnorm').length).toBe(5);
    const [merged, plain, expected] = tf.tidy(() => [
      forwardValues(program, x)[program.output],
      forwardValues(unmerged, x)[unmerged.output],
      model.predict(x) as tf.Tensor,
    ]);
    const [a, b, c] = await Promise.all([merged.data(), plain.data(), expected.data()]);
    const maxDiff = (u: ArrayLike<number>, v: ArrayLike<number>) => Math.max(...Array.from(u, (value, i) => Math.abs(value - v[i])));
    expect(maxDiff(a, c)).toBeLessThan(1e-5);
    expect(maxDiff(b, c)).toBeLessThan(1e-5);
    [merged, plain, expected].forEach((t) => t.dispose());
    program.dispose();
    unmerged.dispose();
  });

  it("leaves the user's model and weights untouched, and differs from propagating through unmerged BatchNorms", async () => {
    const before = await Promise.all(model.getWeights().map((w) => w.data()));
    const merged = await expectNoLeak(() => lrp(model, x, { target: 1, composite: 'epsilon-plus' }));
    const unmerged = await lrp(model, x, { target: 1, composite: 'epsilon-plus', canonize: false });
    const after = await Promise.all(model.getWeights().map((w) => w.data()));
    after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
    expect(relativeL1(await merged.data(), await unmerged.data())).toBeGreaterThan(1e-3);
    merged.dispose();
    unmerged.dispose();
  });
});

/** Runs `lrp` on the active backend and on cpu; both must agree. */
async function expectSameOnCpu(model: tfl.LayersModel, x: tf.Tensor, options: LrpOptions): Promise<void> {
  const active = tf.getBackend();
  const here = await expectNoLeak(() => lrp(model, x, options));
  const values = await here.data();
  expect(values.every(Number.isFinite)).toBe(true);
  expect(values.some((v) => Math.abs(v) > 1e-6)).toBe(true);
  here.dispose();
  if (active === 'cpu') return;
  const xValues = await x.data();
  await tf.setBackend('cpu');
  try {
    const onCpu = tf.tensor(xValues, x.shape);
    const reference = await lrp(model, onCpu, options);
    await expectClose(values, await reference.data(), 1e-4);
    onCpu.dispose();
    reference.dispose();
  } finally {
    await tf.setBackend(active);
  }
}

describe('end to end on every backend', () => {
  const residual = residualNet(15);
  const mobile = mobileNetStyle(16);
  const images = seededTensor([2, 6, 6, 2], 92, 1);
  const photos = seededTensor([2, 8, 8, 3], 93, 1);
  afterAll(() => [images, photos].forEach((t) => t.dispose()));

  it("residual network with Add, Concatenate, shared and nested layers ('epsilon-plus-flat', 'epsilon-alpha2-beta1')", async () => {
    await expectSameOnCpu(residual, images, { target: [0, 2], composite: 'epsilon-plus-flat' });
    await expectSameOnCpu(residual, images, { target: [1, 1], composite: 'epsilon-alpha2-beta1' });
  });

  it("MobileNetV2-style stack: depthwise, BatchNorm, relu6, global average pooling, softmax ('epsilon-gamma-box', 'epsilon-plus-flat')", async () => {
    await expectSameOnCpu(mobile, photos, { target: [1, 2], composite: 'epsilon-gamma-box', low: -1, high: 1 });
    await expectSameOnCpu(mobile, photos, { target: 0, composite: 'epsilon-plus-flat', layer: mobile.layers[4].name });
  });
});
