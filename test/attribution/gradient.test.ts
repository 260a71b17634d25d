import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { gradientXInput, saliency } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, finiteDifferenceGradient, seededTensor } from '../helpers';
import { smallConvNet, smoothMlp } from '../helpers/models';

describe('saliency and gradient × input', () => {
  const model = smoothMlp(6, 3);
  const x = seededTensor([4, 6], 11, 1.5);
  afterAll(() => x.dispose());

  it('equal finite differences of the target score, per example and per target', async () => {
    const targets = [0, 2, 1, 2];
    const signed = await expectNoLeak(() => saliency(model, x, { target: targets, abs: false }));
    const rows = tf.unstack(x);
    for (let e = 0; e < 4; e++) {
      const fd = await finiteDifferenceGradient(
        (v) => tf.squeeze(tf.slice(model.predict(tf.expandDims(v, 0)) as tf.Tensor, [0, targets[e]], [1, 1])) as tf.Scalar,
        rows[e],
      );
      await expectClose(tf.slice(signed, e, 1).dataSync(), fd, 2e-3);
    }
    rows.forEach((r) => r.dispose());
    const abs = await saliency(model, x, { target: targets });
    await expectClose(abs, tf.abs(signed), 1e-6);
    const gxi = await gradientXInput(model, x, { target: targets });
    await expectClose(gxi, tf.mul(signed, x), 1e-6);
    [signed, abs, gxi].forEach((t) => t.dispose());
  });

  it('accept every form of model and target, and give the same numbers', async () => {
    const asFunction = (v: tf.Tensor) => model.predict(v) as tf.Tensor;
    const asPredictor = { predict: (v: tf.Tensor) => model.predict(v) as tf.Tensor };
    const reference = await saliency(model, x, { target: 1 });
    for (const candidate of [asFunction, asPredictor]) {
      const other = await saliency(candidate, x, { target: 1 });
      await expectClose(other, reference, 1e-6);
      other.dispose();
    }
    const targetTensor = tf.tensor1d([1, 1, 1, 1], 'int32');
    const byTensor = await saliency(model, x, { target: targetTensor });
    const byFunction = await saliency(model, x, { target: (out) => tf.squeeze(tf.slice(out, [0, 1], [-1, 1]), [1]) as tf.Tensor1D });
    await expectClose(byTensor, reference, 1e-6);
    await expectClose(byFunction, reference, 1e-6);
    [reference, targetTensor, byTensor, byFunction].forEach((t) => t.dispose());
  });

  it('does not depend on batchSize and reports progress', async () => {
    const progress: number[] = [];
    const small = await saliency(model, x, { target: 2, batchSize: 1, onProgress: (done) => progress.push(done) });
    const large = await saliency(model, x, { target: 2, batchSize: 64 });
    await expectClose(small, large, 1e-6);
    expect(progress).toEqual([1, 2, 3, 4]);
    small.dispose();
    large.dispose();
  });

  it('differentiates conv, depthwise, batch-norm and pooling layers exactly', async () => {
    const conv = smallConvNet();
    const image = seededTensor([1, 8, 8, 3], 5);
    const grad = await saliency(conv, image, { target: 3, abs: false });
    const fd = await finiteDifferenceGradient(
      (v) => tf.squeeze(tf.slice(conv.predict(v) as tf.Tensor, [0, 3], [1, 1])) as tf.Scalar,
      image,
      5e-2,
    );
    await expectClose(grad, fd, 2e-2);
    image.dispose();
    grad.dispose();
  });

  it('explain a model whose score does not depend on the input with zeros', async () => {
    const constant = (v: tf.Tensor) => tf.add(tf.zeros([v.shape[0], 2]), tf.tensor1d([3, 4]));
    const map = await expectNoLeak(() => saliency(constant, x, { target: 1 }));
    expect(Array.from(await map.data()).every((v) => v === 0)).toBe(true);
    map.dispose();
  });

  it('reject bad input with errors naming the argument, leaking nothing', async () => {
    const vector = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    await expectRejectsWithoutLeak(() => saliency(model, vector, { target: 0 }), /x: expected a batched tensor of rank >= 2.*got rank 1/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 3 }), /options\.target: index 3 is out of range: the model gives 3 outputs/);
    await expectRejectsWithoutLeak(() => saliency(model, x, {}), /options\.target: is required: the model gives 3 outputs/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: [0, 1] }), /options\.target: expected one index per example \(4\), got 2/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: -1 }), /options\.target: expected a non-negative integer/);
    await expectRejectsWithoutLeak(() => saliency(model, x, { target: 0, batchSize: 0 }), /options\.batchSize: expected a positive integer or 'auto', got 0/);
    const withNaN = tf.tensor2d([[1, NaN, 0, 0, 0, 0]]);
    await expectRejectsWithoutLeak(() => saliency(model, withNaN, { target: 0 }), /x: contains NaN/);
    const withInf = tf.tensor2d([[1, Infinity, 0, 0, 0, 0]]);
    await expectRejectsWithoutLeak(() => gradientXInput(model, withInf, { target: 0 }), /x: contains infinite/);
    await expectRejectsWithoutLeak(() => saliency({} as never, x, { target: 0 }), /model: expected a tf\.LayersModel/);
    const wrongWidth = tf.ones([2, 5]);
    await expectRejectsWithoutLeak(() => saliency(model, wrongWidth, { target: 0 }), /x: expected shape \[any, 6\] \(the model's input "[^"]+"\), got \[2, 5\]/);
    [vector, withNaN, withInf, wrongWidth].forEach((t) => t.dispose());
  });

  it('abort between chunks with an AbortError and no leak', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const run = saliency(model, x, {
      target: 0,
      batchSize: 1,
      signal: controller.signal,
      onProgress: (done) => done === 2 && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
  });
});
