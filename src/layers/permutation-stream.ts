/**
 * A reproducible stream of random permutations, one batch per call, for `SpatialShuffle`.
 *
 * Counter-based: the `k`-th call draws from a mulberry32 generator keyed by `hash(seed, k)`, so its
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
    const random = mulberry32(mix(this.key, this.calls++));
    return Array.from({ length: count }, () => {
      const perm = new Int32Array(size);
      for (let i = 0; i < size; i++) perm[i] = i;
      for (let i = size - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      return perm;
    });
  }
}

/** A 32-bit hash of two 32-bit integers (murmur3's finaliser on a combined word). */
function mix(a: number, b: number): number {
  let h = (a ^ Math.imul((b + 0x9e3779b9) | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: uniform numbers in [0, 1) from a 32-bit state. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
