/**
 * Seeded randomness. Noise and masks are generated with tfjs's seeded generators, which run in
 * JavaScript on every backend, so the same seed gives the same numbers on cpu, wasm, webgl and webgpu.
 * Each sample draws from its own seed derived from (seed, sample index), so results do not depend on
 * how the work is chunked.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from './validate';

/** The seed to use: the user's, or a fresh random one when none was given. */
export function seedOption(seed: number | undefined, argument = 'options.seed'): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 31);
  assertInteger(seed, argument, 0);
  return seed;
}

/** A 31-bit seed mixed from a base seed and indices (splitmix-style integer hash). */
export function deriveSeed(seed: number, ...indices: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const index of indices) {
    h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h & 0x7fffffff;
}

/** mulberry32 (Tommy Ettinger): a small, fast generator of uniform numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal noise of `shape` for sample `indices` of a run seeded with `seed`. */
export function seededNormal(shape: number[], seed: number, ...indices: number[]): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', deriveSeed(seed, ...indices));
}

/** Uniform noise in [low, high) of `shape` for sample `indices` of a run seeded with `seed`. */
export function seededUniform(shape: number[], low: number, high: number, seed: number, ...indices: number[]): tf.Tensor {
  return tf.randomUniform(shape, low, high, 'float32', deriveSeed(seed, ...indices));
}
