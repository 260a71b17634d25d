/**
 * Stable ranks of many columns at once, computed on the backend by sorting (`tf.topk` of the negated
 * values gives the ascending order, ties in sample order on every backend; a second `topk` of the
 * negated order inverts the permutation). Optionally ties are broken at random instead: every column
 * is first shuffled with its own seeded permutation, which is the limit of adding an infinitesimal
 * random jitter to the values (distinct values keep their order).
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, mulberry32 } from '../core/seeded-random';

/** Ranks 0..N−1 of every row of `columns` ([C, N]: C columns of N samples) and the share of repeats. */
export interface ColumnRanks {
  /** `[C, N]` int32: the 0-based rank of every sample within its column. */
  ranks: tf.Tensor2D;
  /** `[C]`: the share of samples whose value equals a smaller-ranked one (1 − distinct/N). */
  repeats: tf.Tensor1D;
}

/** Per-column random tie-breaking: column c of a call is shuffled with a permutation seeded by (seed, c). */
export interface TieBreak {
  seed: number;
  /** Index of the first column (so that a column's permutation does not depend on chunking). */
  firstColumn: number;
}

/**
 * Ranks of the rows of `columns` `[C, N]` (inside a tidy; the caller owns the result). Ties keep the
 * sample order, as gcmi's stable mergesort does, unless `tieBreak` shuffles them at random.
 */
export function columnRanks(columns: tf.Tensor2D, tieBreak: TieBreak | null = null): ColumnRanks {
  return tf.tidy(() => {
    const [count, n] = columns.shape;
    let values: tf.Tensor2D = columns;
    let shuffle: tf.Tensor2D | null = null;
    if (tieBreak !== null) {
      shuffle = tf.tensor2d(columnShuffles(count, n, tieBreak), [count, n], 'int32');
      values = gatherWithinRows(columns, shuffle);
    }
    const sorted = tf.topk(tf.neg(values), n, true);
    let order = sorted.indices as tf.Tensor2D;
    if (shuffle !== null) order = gatherWithinRows(shuffle, order);
    const ranks = tf.topk(tf.neg(order), n, true).indices as tf.Tensor2D;
    return { ranks, repeats: repeatShares(sorted.values as tf.Tensor2D) };
  });
}

/**
 * The share of values of every row of `sorted` `[C, N]` (each row sorted) that equal their predecessor.
 * Compared on the flattened rows with 1-D (contiguous) slices, then the comparisons across row ends
 * masked out: tfjs-backend-cpu's strided 2-D slices are 20× slower.
 */
function repeatShares(sorted: tf.Tensor2D): tf.Tensor1D {
  const [rows, n] = sorted.shape;
  if (n < 2) return tf.zeros([rows]);
  const flat = tf.reshape(sorted, [rows * n]);
  const equal = tf.cast(tf.equal(tf.slice(flat, 1, rows * n - 1), tf.slice(flat, 0, rows * n - 1)), 'float32');
  const withinRows = tf.concat([tf.ones([n - 1]), tf.zeros([1])]);
  const perPosition = tf.mul(tf.reshape(tf.concat([equal, tf.zeros([1])]), [rows, n]), withinRows);
  return tf.div(tf.sum(perPosition, 1), n) as tf.Tensor1D;
}

/**
 * `out[c, j] = values[c, indices[c, j]]` for `[C, N]` tensors, as one flat gather (tfjs-backend-wasm
 * 4.22's `gather` with `batchDims = 1` mixes up rows).
 */
function gatherWithinRows<T extends tf.Tensor2D>(values: T, indices: tf.Tensor2D): T {
  const [rows, n] = values.shape;
  const offsets = tf.mul(tf.reshape(tf.range(0, rows, 1, 'int32'), [rows, 1]), tf.scalar(n, 'int32'));
  return tf.reshape(tf.gather(tf.reshape(values, [rows * n]), tf.add(indices, offsets)), [rows, n]) as T;
}

/** Row-major `[count, n]` permutations of 0..n−1, column c seeded by (seed, firstColumn + c). */
function columnShuffles(count: number, n: number, { seed, firstColumn }: TieBreak): Int32Array {
  const out = new Int32Array(count * n);
  for (let c = 0; c < count; c++) out.set(seededPermutation(n, deriveSeed(seed, firstColumn + c)), c * n);
  return out;
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates on mulberry32 seeded with `seed`). */
export function seededPermutation(n: number, seed: number): Int32Array {
  const random = mulberry32(seed);
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
