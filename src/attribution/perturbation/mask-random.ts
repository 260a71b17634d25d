/**
 * The randomness of perturbation masks, drawn in plain JavaScript from (seed, mask index) so that every
 * mask is the same on every backend and for every `batchSize`, and a whole chunk of masks costs one
 * upload to the backend instead of one random tensor per mask.
 */
import { deriveSeed, mulberry32 } from '../../core/seeded-random';

/** `count` uniform numbers in [0, 1) for (seed, indices): a mulberry32 stream seeded by {@link deriveSeed}. */
export function seededUniforms(count: number, seed: number, ...indices: number[]): Float32Array {
  const next = mulberry32(deriveSeed(seed, ...indices));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next();
  return out;
}

/** A seeded integer in `[0, bound)` for (seed, indices) (crop offsets). */
export function seededInteger(bound: number, seed: number, ...indices: number[]): number {
  return Math.floor((deriveSeed(seed, ...indices) / 2 ** 31) * bound);
}

/** A uniformly random permutation of `0 .. n − 1` drawn from the uniform stream `next` (Fisher–Yates). */
export function randomPermutation(n: number, next: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
