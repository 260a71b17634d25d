/** Shared test utilities: leak checks, tolerant comparisons, finite differences, tiny models. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** The active backend's name: 'cpu', 'wasm', 'webgl' or 'webgpu'. */
export const backend = (): string => tf.getBackend();

/**
 * Runs `fn` and checks that it leaves `tf.memory().numTensors` unchanged apart from the tensors it
 * returns (which are disposed here). Works for success and for expected rejections.
 */
export async function expectNoLeak<T>(fn: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const returned = collectTensors(result);
  expect(tf.memory().numTensors - returned.length).toBe(before);
  return result;
}

/** Expects `fn` to reject with a message matching `pattern` and to leak no tensor. */
export async function expectRejectsWithoutLeak(fn: () => Promise<unknown>, pattern: RegExp | string): Promise<void> {
  const before = tf.memory().numTensors;
  await expect(fn()).rejects.toThrow(pattern);
  expect(tf.memory().numTensors).toBe(before);
}

function collectTensors(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectTensors(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectTensors(v, out));
  return out;
}

/** Relative L1 distance ‖a − b‖₁ / max(‖b‖₁, tiny): the backend-comparison metric. */
export function relativeL1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += Math.abs(a[i] - b[i]);
    den += Math.abs(b[i]);
  }
  return num / Math.max(den, 1e-12);
}

/** Asserts relative L1 closeness of two arrays or tensors. */
export async function expectClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: tf.Tensor | ArrayLike<number>,
  tolerance = 1e-4,
): Promise<void> {
  const a = actual instanceof tf.Tensor ? await actual.data() : actual;
  const b = expected instanceof tf.Tensor ? await expected.data() : expected;
  const distance = relativeL1(a, b);
  expect(distance, `relative L1 ${distance} > ${tolerance}`).toBeLessThanOrEqual(tolerance);
}

/**
 * Central finite-difference gradient of a scalar function of `x` (computed in float32 through tfjs,
 * so use a step like 1e-2 and smooth functions). Returns a plain array shaped like x (flattened).
 */
export async function finiteDifferenceGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  step = 1e-2,
): Promise<Float32Array> {
  const base = await x.data();
  const grad = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] += step;
    minus[i] -= step;
    const [fp, fm] = tf.tidy(() => [f(tf.tensor(plus, x.shape)), f(tf.tensor(minus, x.shape))]);
    grad[i] = ((await fp.data())[0] - (await fm.data())[0]) / (2 * step);
    fp.dispose();
    fm.dispose();
  }
  return grad;
}

/** Deterministic pseudo-random numbers in [-1, 1) for test fixtures (mulberry32). */
export function seededValues(count: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

/** A tensor of deterministic values in [-scale, scale). */
export function seededTensor(shape: number[], seed = 1, scale = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.mul(tf.tensor(seededValues(size, seed), shape), scale);
}
