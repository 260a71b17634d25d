/**
 * How much tensor memory one chunk of model evaluations may use, per backend, and how the engine
 * measures what a chunk uses.
 *
 * `batchSize: 'auto'` runs the first chunk with one row, measures the bytes its evaluation held at its
 * peak (the forward pass's activations, which a gradient tape keeps until the backward pass, plus the
 * backward pass's share), and sizes every later chunk to fit the backend's budget. The budgets are far
 * below each backend's hard limit because memory is fragmented and other tensors live alongside:
 * tfjs-backend-wasm's heap is a 32-bit WebAssembly memory (at most 4 GiB, and growing it fails well
 * before that in browsers), and a GPU shares its memory with the page. A measured chunk of 1 row over
 * budget still runs (one row is the least work there is).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Bytes of live tensor memory a chunk may use on each backend. */
const BUDGET_BYTES: Readonly<Record<string, number>> = {
  cpu: 1024 * 2 ** 20,
  tensorflow: 2048 * 2 ** 20,
  wasm: 256 * 2 ** 20,
  webgl: 256 * 2 ** 20,
  webgpu: 256 * 2 ** 20,
};
const DEFAULT_BUDGET_BYTES = 256 * 2 ** 20;

/** Most rows `'auto'` puts in one chunk, however small the model: bigger chunks are no faster. */
export const AUTO_MAX_ROWS = 128;

/** The chunk memory budget of the active backend, in bytes. */
export function memoryBudget(): number {
  return BUDGET_BYTES[tf.getBackend()] ?? DEFAULT_BUDGET_BYTES;
}

/**
 * Records the peak of live tensor bytes above a baseline while one chunk is evaluated. Evaluation
 * routines call {@link MemoryProbe.sample} where their memory peaks (e.g. right after a taped forward
 * pass).
 */
export class MemoryProbe {
  private readonly base = tf.memory().numBytes;
  private peak = 0;

  /** Records the bytes live now (above the probe's start) and `extra` bytes the caller knows will come. */
  sample(extraFactor = 1): void {
    this.peak = Math.max(this.peak, (tf.memory().numBytes - this.base) * extraFactor);
  }

  /** The largest sample, in bytes (0 if nothing was sampled). */
  get peakBytes(): number {
    return this.peak;
  }
}

/**
 * Rows per chunk after a probe chunk of `probeRows` rows that peaked at `peakBytes`: as many as the
 * budget allows, between 1 and {@link AUTO_MAX_ROWS}.
 */
export function rowsWithinBudget(peakBytes: number, probeRows: number): number {
  if (peakBytes <= 0) return AUTO_MAX_ROWS;
  const perRow = peakBytes / probeRows;
  return Math.max(1, Math.min(AUTO_MAX_ROWS, Math.floor(memoryBudget() / perRow)));
}
