/**
 * The randomness of perturbation masks, drawn in plain JavaScript from (seed, mask index) so that every
 * mask is the same on every backend and for every `batchSize`, and a whole chunk of masks costs one
 * upload to the backend instead of one random tensor per mask.
 */
import { deriveSeed } from '../../core/seeded-random';

/** `count` uniform numbers in [0, 1) for (seed, indices): a mulberry32 stream seeded by {@link deriveSeed}. */
export function seededUniforms(count: number, seed: number, ...indices: number[]): Float32Array {
  let state = deriveSeed(seed, ...indices);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** A seeded integer in `[0, bound)` for (seed, indices) (crop offsets). */
export function seededInteger(bound: number, seed: number, ...indices: number[]): number {
  return Math.floor((deriveSeed(seed, ...indices) / 2 ** 31) * bound);
}
