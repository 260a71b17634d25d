import { deriveSeed, mulberry32 } from '../core/seeded-random';

/**
 * A reproducible stream of random permutations, one batch per call, for `SpatialShuffle`.
 *
 * Counter-based: the `k`-th call draws from a mulberry32 generator keyed by `deriveSeed(seed, k)`, so its
 * permutations depend only on the seed and `k` (not on the sizes asked for in earlier calls).
 * Permutations are uniform Fisher–Yates shuffles. Without a seed, the key is drawn once from
 * `Math.random`.
 */
export class PermutationStream {
  private readonly key: number;
  private calls = 0;

  constructor(seed?: number) {
    this.key = seed === undefined ? Math.floor(Math.random() * 2 ** 32) : seed >>> 0;
  }

  /** The next call's `count` permutations of `0..size−1`. */
  next(count: number, size: number): Int32Array[] {
    const random = mulberry32(deriveSeed(this.key, this.calls++));
    return Array.from({ length: count }, () => shuffledPositions(random, size));
  }
}

/** The permutation of `0..size−1` keyed by `key` alone (a Fisher–Yates shuffle over mulberry32(key)). */
export function keyedPermutation(key: number, size: number): Int32Array {
  return shuffledPositions(mulberry32(key), size);
}

/** A uniform Fisher–Yates permutation of `0..size−1` drawn from `random`. */
function shuffledPositions(random: () => number, size: number): Int32Array {
  const perm = new Int32Array(size);
  for (let i = 0; i < size; i++) perm[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/** A 31-bit hash of a string (FNV-1a), to key permutations by a layer's name. */
export function stringHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}
