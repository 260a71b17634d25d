/**
 * Plain-JS float64 references for window operations (convolutions, depthwise convolutions, max and
 * average pooling) and the helpers the backend-gap tests share. Independent of tfjs: loops over the
 * definitions, with TensorFlow's padding conventions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { backend, expectClose } from '../helpers';

export type Pad = 'same' | 'valid' | [[number, number], [number, number]];

/** Output size and leading padding of a strided window along one axis (TensorFlow's conventions). */
export function axis(size: number, filter: number, stride: number, dilation: number, pad: Pad, which: 0 | 1) {
  const effective = (filter - 1) * dilation + 1;
  if (pad === 'same') {
    const out = Math.ceil(size / stride);
    return { out, before: Math.floor(Math.max((out - 1) * stride + effective - size, 0) / 2) };
  }
  if (pad === 'valid') return { out: Math.ceil((size - effective + 1) / stride), before: 0 };
  const [before, after] = pad[which];
  return { out: Math.floor((size + before + after - effective) / stride) + 1, before };
}

export interface Window {
  shape: [number, number, number, number];
  filter: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
}

/** Calls `visit(n, oy, ox, ky, kx, iy, ix)` for every in-range (output position, filter tap) pair. */
export type TapVisitor = (n: number, oy: number, ox: number, ky: number, kx: number, iy: number, ix: number) => void;

export function forEachTap(w: Window, visit: TapVisitor) {
  const [batch, height, width] = w.shape;
  const rows = axis(height, w.filter[0], w.strides[0], w.dilations[0], w.pad, 0);
  const cols = axis(width, w.filter[1], w.strides[1], w.dilations[1], w.pad, 1);
  for (let n = 0; n < batch; n++)
    for (let oy = 0; oy < rows.out; oy++)
      for (let ox = 0; ox < cols.out; ox++)
        for (let ky = 0; ky < w.filter[0]; ky++)
          for (let kx = 0; kx < w.filter[1]; kx++) {
            const iy = oy * w.strides[0] - rows.before + ky * w.dilations[0];
            const ix = ox * w.strides[1] - cols.before + kx * w.dilations[1];
            if (iy >= 0 && iy < height && ix >= 0 && ix < width) visit(n, oy, ox, ky, kx, iy, ix);
          }
  return [batch, rows.out, cols.out] as const;
}

export const at4 = (shape: readonly number[], a: number, b: number, c: number, d: number) =>
  ((a * shape[1] + b) * shape[2] + c) * shape[3] + d;

/** dL/dx and dL/dfilter of L = Σ dy ⊙ depthwiseConv2d(x, filter), by the definition's loops. */
export type Values = ArrayLike<number>;

export function depthwiseReference(w: Window, x: Values, filter: Values, multiplier: number, dy: Values) {
  const channels = w.shape[3];
  const dx = new Float32Array(x.length);
  const dFilter = new Float32Array(filter.length);
  const filterShape = [w.filter[0], w.filter[1], channels, multiplier];
  const [, oh, ow] = forEachTap(w, () => undefined);
  const dyShape = [w.shape[0], oh, ow, channels * multiplier];
  forEachTap(w, (n, oy, ox, ky, kx, iy, ix) => {
    for (let c = 0; c < channels; c++)
      for (let m = 0; m < multiplier; m++) {
        const g = dy[at4(dyShape, n, oy, ox, c * multiplier + m)];
        dx[at4(w.shape, n, iy, ix, c)] += g * filter[at4(filterShape, ky, kx, c, m)];
        dFilter[at4(filterShape, ky, kx, c, m)] += g * x[at4(w.shape, n, iy, ix, c)];
      }
  });
  return { dx, dFilter, dyShape };
}

/** dL/dx and dL/dfilter of L = Σ dy ⊙ conv2d(x, filter). */
export function conv2dReference(w: Window, x: Values, filter: Values, outChannels: number, dy: Values) {
  const inChannels = w.shape[3];
  const dx = new Float32Array(x.length);
  const dFilter = new Float32Array(filter.length);
  const filterShape = [w.filter[0], w.filter[1], inChannels, outChannels];
  const [, oh, ow] = forEachTap(w, () => undefined);
  const dyShape = [w.shape[0], oh, ow, outChannels];
  forEachTap(w, (n, oy, ox, ky, kx, iy, ix) => {
    for (let i = 0; i < inChannels; i++)
      for (let o = 0; o < outChannels; o++) {
        const g = dy[at4(dyShape, n, oy, ox, o)];
        dx[at4(w.shape, n, iy, ix, i)] += g * filter[at4(filterShape, ky, kx, i, o)];
        dFilter[at4(filterShape, ky, kx, i, o)] += g * x[at4(w.shape, n, iy, ix, i)];
      }
  });
  return { dx, dFilter };
}

/** dL/dx of L = Σ dy ⊙ maxPool(x): each output's dy goes to the first maximum of its window. */
export function maxPoolReference(w: Window, x: Values, dy: Values) {
  const channels = w.shape[3];
  const [batch, oh, ow] = forEachTap(w, () => undefined);
  const dyShape = [batch, oh, ow, channels];
  const best = new Map<number, { value: number; index: number }>();
  forEachTap(w, (n, oy, ox, _ky, _kx, iy, ix) => {
    for (let c = 0; c < channels; c++) {
      const out = at4(dyShape, n, oy, ox, c);
      const index = at4(w.shape, n, iy, ix, c);
      const current = best.get(out);
      if (current === undefined || x[index] > current.value) best.set(out, { value: x[index], index });
    }
  });
  const dx = new Float32Array(x.length);
  for (const [out, { index }] of best) dx[index] += dy[out];
  return { dx, dyShape };
}

export const sumOfProduct = (y: tf.Tensor, weights: tf.Tensor) => tf.sum(tf.mul(y, weights)) as tf.Scalar;

/** d/dx of Σ dy ⊙ f(x). */
export const gradientOf = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, dy: tf.Tensor) =>
  tf.grad((input: tf.Tensor) => sumOfProduct(f(input), dy))(x);
export const as4d = (t: tf.Tensor) => t as tf.Tensor4D;

/**
 * Runs a replacement kernel directly on the active backend, as the engine would, and compares it with
 * `expected`. Skipped on webgl: the replacements are installed only where a backend lacks a kernel or
 * gets it wrong (wasm), and checking them on webgl would compile dozens of shaders for a path webgl
 * never takes; on cpu they are checked as on wasm.
 */
export async function expectKernel(
  build: (backendName: string) => tf.KernelConfig,
  inputs: Record<string, tf.Tensor>,
  attrs: object,
  expected: ArrayLike<number>,
  tolerance: number,
): Promise<void> {
  if (backend() === 'webgl') return;
  const before = tf.memory().numDataBuffers;
  const kernel = build(tf.getBackend());
  const info = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
  const output = tf.engine().makeTensorFromTensorInfo(info);
  expect(tf.memory().numDataBuffers).toBe(before + 1);
  await expectClose(output, expected, tolerance);
  output.dispose();
}


/**
 * y and dL/dx of L = Σ dy ⊙ avgPool(x), TensorFlow's convention: each window averages its real
 * (unpadded) cells.
 */
export function avgPoolReference(w: Window, x: Values, dy: Values) {
  const channels = w.shape[3];
  const [batch, oh, ow] = forEachTap(w, () => undefined);
  const yShape = [batch, oh, ow, channels];
  const count = new Float64Array(batch * oh * ow);
  forEachTap(w, (n, oy, ox) => count[(n * oh + oy) * ow + ox]++);
  const y = new Float64Array(batch * oh * ow * channels);
  const dx = new Float64Array(x.length);
  forEachTap(w, (n, oy, ox, _ky, _kx, iy, ix) => {
    const cells = count[(n * oh + oy) * ow + ox];
    for (let c = 0; c < channels; c++) {
      const out = at4(yShape, n, oy, ox, c);
      const index = at4(w.shape, n, iy, ix, c);
      y[out] += x[index] / cells;
      dx[index] += dy[out] / cells;
    }
  });
  return { y, dx, yShape };
}
