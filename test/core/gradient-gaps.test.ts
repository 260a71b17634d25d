import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it } from 'vitest';
import { needsUnfusedCall, unfusedConvolutionCall, withBackendGapFixesSync } from '../../src/core/backend-gaps';
import { inputGradient } from '../../src/core/input-gradient';
import { expectClose, expectNoLeak, finiteDifferenceGradient, seededTensor, seededValues } from '../helpers';
import { expectRegistry, snapshotRegistry } from './registry';
import {
  as4d,
  avgPoolReference,
  conv2dReference,
  depthwiseReference,
  gradientOf,
  sumOfProduct,
  type Window,
} from './window-reference';

const pristine = snapshotRegistry();
afterEach(() => expectRegistry(pristine));

describe('gradient gaps: average pooling with padding', () => {
  const cases: Window[] = [
    { shape: [2, 7, 6, 3], filter: [3, 3], strides: [2, 2], dilations: [1, 1], pad: 'same' },
    { shape: [1, 5, 5, 2], filter: [3, 3], strides: [1, 1], dilations: [1, 1], pad: 'same' },
    { shape: [1, 6, 7, 2], filter: [2, 3], strides: [2, 1], dilations: [1, 1], pad: 'same' },
    { shape: [2, 6, 6, 2], filter: [2, 2], strides: [2, 2], dilations: [1, 1], pad: 'valid' },
  ];
  for (const w of cases) {
    it(`divides by the real cells of each window: filter ${w.filter}, strides ${w.strides}, pad ${w.pad}`, async () => {
      const x = seededTensor(w.shape, 101) as tf.Tensor4D;
      const pool = (input: tf.Tensor) => tf.avgPool(as4d(input), w.filter, w.strides, w.pad as 'same' | 'valid');
      const y = pool(x);
      const dy = seededTensor(y.shape, 102);
      const reference = avgPoolReference(w, await x.data(), await dy.data());
      // Every backend's forward pass already averages over the real cells only.
      expect(y.shape).toEqual(reference.yShape);
      await expectClose(y, reference.y, 1e-5);
      const dx = await expectNoLeak(() => withBackendGapFixesSync(() => gradientOf(pool, x, dy)));
      await expectClose(dx, reference.dx, 1e-5);
      tf.dispose([x, y, dy, dx]);
    });
  }

  it("keeps Euler's identity of a bias-free ReLU net with 'same' average pooling", async () => {
    // f is positively homogeneous of degree 1, so Σ x ⊙ ∂f/∂x = f(x) exactly.
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', useBias: false, activation: 'relu' }),
        tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 1, useBias: false }),
      ],
    });
    const x = seededTensor([1, 6, 6, 2], 103);
    const score = (input: tf.Tensor) => tf.sum(model.apply(input) as tf.Tensor) as tf.Scalar;
    const fx = score(x);
    const gradient = inputGradient(score, x);
    const euler = tf.sum(tf.mul(x, gradient));
    const [value, reference] = [(await euler.data())[0], (await fx.data())[0]];
    expect(Math.abs(value - reference)).toBeLessThan(1e-5 * Math.max(1, Math.abs(reference)));
    // tfjs's own gradient (k² everywhere) breaks the identity.
    const plain = tf.tidy(() => tf.sum(tf.mul(x, tf.grad(score)(x))));
    expect(Math.abs((await plain.data())[0] - reference)).toBeGreaterThan(1e-3 * Math.abs(reference));
    tf.dispose([x, fx, gradient, euler, plain]);
    model.dispose();
  });
});

/** Source index of output position `o` of a nearest-neighbour resize (TensorFlow's definition). */
function nearestSource(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean) {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const fraction = halfPixelCenters ? scale * (o + 0.5) : scale * o;
  const nearest = Math.min(inSize - 1, alignCorners ? Math.round(fraction) : Math.floor(fraction));
  return halfPixelCenters ? Math.max(0, nearest) : nearest;
}

describe('gradient gaps: nearest-neighbour resizing for batches', () => {
  const cases: [[number, number], [number, number], boolean, boolean][] = [
    [[3, 4], [6, 8], false, false], // upSampling2d({ size: 2 })
    [[4, 5], [7, 9], true, false], // resizing layer (alignCorners = !cropToAspectRatio)
    [[5, 3], [7, 7], false, true],
    [[7, 6], [4, 3], false, false], // downsampling
  ];
  for (const [[inH, inW], [outH, outW], alignCorners, halfPixelCenters] of cases) {
    it(`sums dy onto each source pixel: ${inH}×${inW} → ${outH}×${outW}, align ${alignCorners}, half-pixel ${halfPixelCenters}`, async () => {
      const [batch, depth] = [3, 2];
      const x = seededTensor([batch, inH, inW, depth], 111) as tf.Tensor4D;
      const resize = (input: tf.Tensor) =>
        tf.image.resizeNearestNeighbor(as4d(input), [outH, outW], alignCorners, halfPixelCenters);
      const y = resize(x);
      const dy = seededTensor(y.shape, 112);
      const [xs, dys] = [await x.data(), await dy.data()];
      const expectedY = new Float64Array(y.size);
      const expectedDx = new Float64Array(x.size);
      for (let n = 0; n < batch; n++)
        for (let o = 0; o < outH; o++)
          for (let p = 0; p < outW; p++)
            for (let d = 0; d < depth; d++) {
              const r = nearestSource(o, inH, outH, alignCorners, halfPixelCenters);
              const c = nearestSource(p, inW, outW, alignCorners, halfPixelCenters);
              const source = ((n * inH + r) * inW + c) * depth + d;
              const out = ((n * outH + o) * outW + p) * depth + d;
              expectedY[out] = xs[source];
              expectedDx[source] += dys[out];
            }
      await expectClose(y, expectedY, 0);
      const dx = await expectNoLeak(() => withBackendGapFixesSync(() => gradientOf(resize, x, dy)));
      await expectClose(dx, expectedDx, 1e-6);
      tf.dispose([x, y, dy, dx]);
    });
  }

  it('gives an upSampling2d model the same gradient per example at any batch size', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.upSampling2d({ inputShape: [3, 3, 1], size: [2, 2] }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const x = seededTensor([3, 3, 3, 1], 113);
    const score = (input: tf.Tensor) => tf.sum(model.apply(input) as tf.Tensor) as tf.Scalar;
    const batched = inputGradient(score, x);
    const last = tf.slice(x, [2, 0, 0, 0], [1, 3, 3, 1]);
    const alone = inputGradient(score, last);
    await expectClose(tf.slice(batched, [2, 0, 0, 0], [1, 3, 3, 1]), alone, 1e-5);
    await expectClose(alone, await finiteDifferenceGradient(score, last, 1e-2), 2e-3);
    tf.dispose([x, batched, last, alone]);
    model.dispose();
  });
});

describe('gradient gaps: comparisons and logical operations', () => {
  it('ThresholdedReLU and ELU layers differentiate like finite differences', async () => {
    // Values kept 0.05 away from the threshold 0.2 and from 0, where the functions have kinks.
    const values = Array.from(seededValues(12, 121), (v) => (Math.abs(v - 0.2) < 0.05 || Math.abs(v) < 0.05 ? v + 0.11 : v));
    const x = tf.tensor2d(values, [2, 6]);
    const weights = seededTensor([6], 122);
    for (const layer of [tfl.layers.thresholdedReLU({ theta: 0.2 }), tfl.layers.elu()]) {
      const score = (input: tf.Tensor) => sumOfProduct(layer.apply(input) as tf.Tensor, weights);
      const expected = await finiteDifferenceGradient(score, x, 1e-3);
      const dx = await expectNoLeak(() => inputGradient(score, x));
      await expectClose(dx, expected, 2e-3);
      dx.dispose();
    }
    tf.dispose([x, weights]);
  });

  it('gives every comparison and logical operation a zero gradient', async () => {
    const x = tf.tensor1d([-1.5, -0.25, 0.5, 2]);
    const mask = (v: tf.Tensor) => {
      const inRange = tf.logicalAnd(tf.greater(v, -1), tf.less(v, 1));
      const either = tf.logicalOr(tf.lessEqual(v, -1), tf.equal(v, 2));
      const odd = tf.logicalXor(tf.notEqual(v, 0.5), tf.logicalNot(inRange));
      const all = tf.cast(tf.all(either), 'float32');
      const any = tf.cast(tf.any(odd), 'float32');
      return tf.add(tf.add(tf.cast(inRange, 'float32'), tf.cast(odd, 'float32')), tf.add(all, any));
    };
    // f(v) = Σ v ⊙ mask(v): the gradient is mask(x) (the mask itself is piecewise constant).
    const score = (v: tf.Tensor) => tf.sum(tf.mul(v, mask(v))) as tf.Scalar;
    const dx = withBackendGapFixesSync(() => tf.grad(score)(x));
    await expectClose(dx, mask(x), 0);
    expect(() => tf.grad(score)(x)).toThrow(/gradient function not found for/);
    tf.dispose([x, dx]);
  });
});

describe('gradient gaps: dilated convolutions', () => {
  const cases: (Omit<Window, 'shape' | 'strides'> & { channels: number })[] = [
    { filter: [3, 3], dilations: [2, 2], pad: 'same', channels: 2 },
    { filter: [2, 3], dilations: [2, 1], pad: 'valid', channels: 3 },
    { filter: [3, 2], dilations: [1, 3], pad: [[2, 1], [0, 2]], channels: 2 },
  ];
  for (const c of cases) {
    const label = `filter ${c.filter}, dilations ${c.dilations}, pad ${JSON.stringify(c.pad)}`;
    it(`conv2d and depthwiseConv2d input and filter gradients match the definition: ${label}`, async () => {
      const w: Window = { shape: [2, 7, 8, c.channels], filter: c.filter, strides: [1, 1], dilations: c.dilations, pad: c.pad };
      const x = seededTensor(w.shape, 131) as tf.Tensor4D;
      const filter = seededTensor([...c.filter, c.channels, 3], 132) as tf.Tensor4D;
      const dwFilter = seededTensor([...c.filter, c.channels, 2], 133) as tf.Tensor4D;
      const pad = Array.isArray(c.pad) ? ([[0, 0], ...c.pad, [0, 0]] as tf.backend_util.ExplicitPadding) : c.pad;
      const conv = (a: tf.Tensor, f: tf.Tensor) => tf.conv2d(as4d(a), as4d(f), 1, pad, 'NHWC', c.dilations);
      const depthwise = (a: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(as4d(a), as4d(f), 1, pad, 'NHWC', c.dilations);
      const [y, yDw] = [conv(x, filter), depthwise(x, dwFilter)];
      const [dy, dyDw] = [seededTensor(y.shape, 134), seededTensor(yDw.shape, 135)];
      const xs = await x.data();
      const convReference = conv2dReference(w, xs, await filter.data(), 3, await dy.data());
      const dwReference = depthwiseReference(w, xs, await dwFilter.data(), 2, await dyDw.data());
      expect(() => tf.grads((a, f) => sumOfProduct(conv(a, f), dy))([x, filter])).toThrow(/dilation rates greater than 1/);
      const grads = await expectNoLeak(() =>
        withBackendGapFixesSync(() => [
          ...tf.grads((a, f) => sumOfProduct(conv(a, f), dy))([x, filter]),
          ...tf.grads((a, f) => sumOfProduct(depthwise(a, f), dyDw))([x, dwFilter]),
        ]),
      );
      await expectClose(grads[0], convReference.dx, 1e-5);
      await expectClose(grads[1], convReference.dFilter, 1e-5);
      await expectClose(grads[2], dwReference.dx, 1e-5);
      await expectClose(grads[3], dwReference.dFilter, 1e-5);
      tf.dispose([x, filter, dwFilter, y, yDw, dy, dyDw, ...grads]);
    });
  }

  it('conv1d({ dilationRate: 2 }) differentiates like finite differences', async () => {
    const layer = tfl.layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' });
    const x = seededTensor([1, 9, 2], 136);
    const score = (input: tf.Tensor) => tf.sum(layer.apply(input) as tf.Tensor) as tf.Scalar;
    const expected = await finiteDifferenceGradient(score, x, 1e-2);
    const dx = inputGradient(score, x);
    await expectClose(dx, expected, 2e-3);
    tf.dispose([x, dx]);
    layer.dispose();
  });
});

describe('gradient gaps: dilated tfjs-layers conv2d run unfused', () => {
  for (const activation of ['linear', 'relu', 'tanh'] as const) {
    for (const dataFormat of ['channelsLast', 'channelsFirst'] as const) {
      it(`conv2d({ dilationRate: 2, activation: '${activation}', dataFormat: '${dataFormat}' })`, async () => {
        const layer = tfl.layers.conv2d({
          filters: 3,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          activation,
          dataFormat,
          biasInitializer: 'glorotNormal',
        });
        const x = seededTensor(dataFormat === 'channelsLast' ? [1, 6, 7, 2] : [1, 2, 6, 7], 141);
        const fused = layer.apply(x) as tf.Tensor;
        expect(needsUnfusedCall(layer)).toBe(true);
        const unfused = unfusedConvolutionCall(layer, x);
        await expectClose(unfused, fused, 1e-6);
        const weights = seededTensor(fused.shape, 142);
        const score = (input: tf.Tensor) => sumOfProduct(unfusedConvolutionCall(layer, input), weights);
        const dx = await expectNoLeak(() => inputGradient(score, x));
        const throughLayer = () => inputGradient((input) => sumOfProduct(layer.apply(input) as tf.Tensor, weights), x);
        if (activation === 'relu') {
          // tfjs unfuses a ReLU conv under a tape itself (kinks rule out finite differences here).
          const viaLayer = throughLayer();
          await expectClose(dx, viaLayer, 1e-5);
          viaLayer.dispose();
        } else {
          await expectClose(dx, await finiteDifferenceGradient(score, x, 1e-2), 2e-3);
          // Linear and non-fusable activations keep tfjs's fused op under a tape, whose gradient refuses dilation.
          expect(() => throughLayer().dispose()).toThrow(/fused conv2D: dilation rates greater than 1/);
        }
        tf.dispose([x, fused, unfused, weights, dx]);
        layer.dispose();
      });
    }
  }

  it('needsUnfusedCall is false for undilated and other layers; unfusedConvolutionCall refuses them', () => {
    const plain = tfl.layers.conv2d({ filters: 1, kernelSize: 3 });
    const dense = tfl.layers.dense({ units: 1 });
    expect(needsUnfusedCall(plain)).toBe(false);
    expect(needsUnfusedCall(dense)).toBe(false);
    expect(() => unfusedConvolutionCall(dense, tf.zeros([1, 2]))).toThrow(/layer: expected a tfjs-layers Conv2D layer, got a Dense/);
  });
});
