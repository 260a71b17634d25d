import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { gradCam, zoomCam } from '../../src/index';
import { withBackendGapFixesSync } from '../../src/core/backend-gaps';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { upsampleAndCrop } from '../perturbation/reference';

const [H, W, C, K, CLASSES] = [8, 8, 3, 4, 3];

/** conv ('features', h×w×K) → [pool] → global average pooling → dense ('logits'). */
function gapModel(pool: boolean, sequential = false): tfl.LayersModel {
  const layers = [
    tfl.layers.conv2d({ inputShape: [H, W, C], filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'stem' }),
    ...(pool ? [tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' })] : []),
    tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'relu', name: 'features' }),
    tfl.layers.globalAveragePooling2d({ name: 'gap' }),
    tfl.layers.dense({ units: CLASSES, name: 'logits' }),
  ];
  if (sequential) return setSeededWeights(tfl.sequential({ layers }), 3, 0.7);
  const input = tfl.input({ shape: [H, W, C] });
  const output = layers.reduce<tfl.SymbolicTensor>((t, layer) => layer.apply(t) as tfl.SymbolicTensor, input);
  return setSeededWeights(tfl.model({ inputs: input, outputs: output }), 3, 0.7);
}

/** The classic CAM Σ_k w_kc A_k / (h·w) at the 'features' layer, computed from the activations in JS. */
async function classicCam(model: tfl.LayersModel, x: tf.Tensor, targets: number[]): Promise<{ map: Float64Array; h: number; w: number }> {
  const features = tfl.model({ inputs: model.inputs, outputs: model.getLayer('features').output as tfl.SymbolicTensor });
  const activations = features.predict(x) as tf.Tensor;
  const [n, h, w] = activations.shape;
  const a = await activations.data();
  const kernel = await model.getLayer('logits').getWeights()[0].data();
  activations.dispose();
  const map = new Float64Array(n * h * w);
  for (let e = 0; e < n; e++) {
    for (let p = 0; p < h * w; p++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += kernel[k * CLASSES + targets[e]] * a[(e * h * w + p) * K + k];
      map[e * h * w + p] = sum / (h * w);
    }
  }
  return { map, h, w };
}

describe('gradCam', () => {
  const x = seededTensor([3, H, W, C], 12);
  afterAll(() => x.dispose());

  it.each([false, true])('equals the classic CAM on conv → GAP → dense (sequential: %s)', async (sequential) => {
    const model = gapModel(false, sequential);
    const targets = [0, 2, 1];
    const { map } = await classicCam(model, x, targets);
    const signed = await expectNoLeak(() => gradCam(model, x, { target: targets, layer: 'features', relu: false, batchSize: 2 }));
    expect(signed.shape).toEqual([3, H, W, 1]);
    await expectClose(signed, map, 1e-5);
    const rectified = await gradCam(model, x, { target: targets, layer: 'features' });
    await expectClose(rectified, map.map((v) => Math.max(v, 0)), 1e-5);
    [signed, rectified].forEach((t) => t.dispose());
  });

  it('upsamples a coarser layer bilinearly (half-pixel centres) to the input size', async () => {
    const model = gapModel(true);
    const { map, h, w } = await classicCam(model, x, [1, 1, 1]);
    expect([h, w]).toEqual([H / 2, W / 2]);
    const expected = new Float64Array(3 * H * W);
    for (let e = 0; e < 3; e++) {
      const up = upsampleAndCrop(map.subarray(e * h * w, (e + 1) * h * w), [h, w], [H, W], [H, W], [0, 0]);
      expected.set(up, e * H * W);
    }
    const cam = await gradCam(model, x, { target: 1, layer: 'features', relu: false });
    await expectClose(cam, expected, 1e-5);
    cam.dispose();
  });

  it('takes the total derivative through skip connections (functional model with Add)', async () => {
    const input = tfl.input({ shape: [H, W, C] });
    const a = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'a' }).apply(input) as tfl.SymbolicTensor;
    const bLayer = tfl.layers.conv2d({ filters: K, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'b' });
    const sum = tfl.layers.add({ name: 'add' }).apply([a, bLayer.apply(a) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
    const gapLayer = tfl.layers.globalAveragePooling2d({});
    const dense = tfl.layers.dense({ units: CLASSES, activation: 'softmax' });
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: dense.apply(gapLayer.apply(sum)) as tfl.SymbolicTensor }), 5, 0.8);
    // Independent computation: the head after 'a' written out by hand, differentiated with tf.grad.
    const expected = tf.tidy(() => {
      const activation = tfl.model({ inputs: input, outputs: a }).predict(x) as tf.Tensor;
      const head = (v: tf.Tensor) => {
        const out = dense.apply(gapLayer.apply(tf.add(v, bLayer.apply(v) as tf.Tensor))) as tf.Tensor;
        return tf.sum(tf.mul(out, tf.oneHot(tf.tensor1d([2, 0, 1], 'int32'), CLASSES)));
      };
      const gradient = withBackendGapFixesSync(() => tf.grad(head)(activation));
      return tf.sum(tf.mul(tf.mean(gradient, [1, 2], true), activation), 3, true);
    });
    const cam = await expectNoLeak(() => gradCam(model, x, { target: [2, 0, 1], layer: 'a', relu: false }));
    await expectClose(cam, expected, 1e-4);
    [cam, expected].forEach((t) => t.dispose());
  });

  it('does not depend on batchSize, aborts, and rejects bad calls with clear errors, leak-free', async () => {
    const model = gapModel(true);
    const a = await gradCam(model, x, { target: 0, layer: 'features', batchSize: 1 });
    const b = await gradCam(model, x, { target: 0, layer: 'features', batchSize: 8 });
    await expectClose(a, b, 1e-6);
    [a, b].forEach((t) => t.dispose());
    await expectRejectsWithoutLeak(
      () => gradCam(model, x, { target: 0, layer: 'conv9' }),
      /options\.layer: the model has no layer named "conv9"; its layers are: stem, pool, features, gap, logits$/,
    );
    await expectRejectsWithoutLeak(() => gradCam(model, x, { target: 0, layer: 'logits' }), /options\.layer: layer "logits" outputs shape \[N, 3\]/);
    await expectRejectsWithoutLeak(() => gradCam(model, x, { target: 5, layer: 'features' }), /options\.target: index 5 is out of range/);
    await expectRejectsWithoutLeak(() => gradCam(((v: tf.Tensor) => v) as never, x, { target: 0, layer: 'features' }), /model: gradCam needs a tf\.LayersModel \(its inner layers are read\), got a function/);
    const controller = new AbortController();
    controller.abort();
    await expectRejectsWithoutLeak(() => gradCam(model, x, { target: 0, layer: 'features', signal: controller.signal }), /aborted/);
  });
});

describe('zoomCam', () => {
  const x = seededTensor([2, H, W, C], 22);
  afterAll(() => x.dispose());

  it('on one layer feeding GAP is the rectified CAM divided by its maximum', async () => {
    const model = gapModel(false);
    const { map } = await classicCam(model, x, [2, 2]);
    const cam = await expectNoLeak(() => zoomCam(model, x, { target: 2, layers: ['features'] }));
    expect(cam.shape).toEqual([2, H, W, 1]);
    const expected = new Float64Array(map.length);
    for (let e = 0; e < 2; e++) {
      const part = map.subarray(e * H * W, (e + 1) * H * W).map((v) => Math.max(v, 0));
      const max = Math.max(...part);
      expected.set(part.map((v) => (max > 0 ? v / max : 0)), e * H * W);
    }
    await expectClose(cam, expected, 1e-5);
    cam.dispose();
  });

  it('fuses the normalised per-layer maps by maximum', async () => {
    const model = gapModel(true);
    const [stem, features, fused] = await Promise.all([
      zoomCam(model, x, { target: 1, layers: ['stem'] }),
      zoomCam(model, x, { target: 1, layers: ['features'] }),
      zoomCam(model, x, { target: 1, layers: ['stem', 'features'] }),
    ]);
    await expectClose(fused, tf.maximum(stem, features), 1e-6);
    const values = await fused.data();
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeCloseTo(1, 5);
    [stem, features, fused].forEach((t) => t.dispose());
    await expectRejectsWithoutLeak(() => zoomCam(model, x, { target: 1, layers: [] }), /options\.layers: expected a non-empty array/);
    await expectRejectsWithoutLeak(() => zoomCam(model, x, { target: 1, layers: ['stem', 'nope'] }), /options\.layers\[1\]: the model has no layer named "nope"/);
  });
});
