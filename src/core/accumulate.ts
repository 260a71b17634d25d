/**
 * The engine under every attribution: evaluate the target score (or its input gradients) at many points
 * derived from the examples, in memory-bounded chunks, and either sum per-row terms into one
 * accumulator per example ({@link accumulateOverPoints}) or keep per-row results in order
 * ({@link collectOverRows}).
 *
 * A method supplies the points (interpolations, noisy copies, masked copies, ...), the rows' example
 * indices and the terms; the engine handles chunking (`batchSize`, `'auto'` included), targets,
 * gradient taping, progress, abort, the synchronous override scopes and tensor hygiene. Peak memory
 * depends on the chunk size only, never on the number of points.
 */
import * as tf from '@tensorflow/tfjs-core';
import { forEachChunk, type Chunk, type ChunkPlan } from './chunks';
import { evaluateGradients, evaluateScores, type Evaluator } from './evaluate';
import { oneHotRows } from './one-hot';
import { transposedMatMul } from './transposed-matmul';

/** Rows `[start, start + count)` of the point set, with what the method attached to them. */
export interface PointRows<E = undefined> {
  /** Model inputs, one tensor per model input, `[count, ...featureShape]`. */
  inputs: tf.Tensor[];
  /** The example each row belongs to. */
  examples: Int32Array;
  start: number;
  count: number;
  /** What `points` attached to this chunk (e.g. its masks), for `terms`. */
  extra: E;
}

/** What the engine computed for a chunk of rows. */
export interface RowEvaluation {
  /** Target scores, `[count]`. */
  scores: tf.Tensor1D;
  /** Gradients of the target scores with respect to each model input, shaped like the inputs (when requested). */
  gradients: tf.Tensor[] | null;
}

/** Rows as `points` builds them. */
export interface Points<E = undefined> {
  inputs: tf.Tensor[];
  examples: Int32Array;
  extra?: E;
}

/** A job for {@link accumulateOverPoints}. */
export interface AccumulationJob<E = undefined> extends Omit<ChunkPlan, 'total'> {
  evaluator: Evaluator;
  /** Number of rows (model evaluations) in all. */
  total: number;
  /** Number of examples: the leading size of every accumulator. */
  numExamples: number;
  /** Evaluate gradients (true) or only scores (false). */
  needs: 'scores' | 'gradients';
  /**
   * Optional asynchronous set-up before rows `[start, start + count)` are built (e.g. awaiting a user
   * function that returns a promise); it runs outside the chunk's synchronous scope.
   */
  prepare?(start: number, count: number): Promise<void> | void;
  /** Builds rows `[start, start + count)` of the point set; runs inside `tf.tidy`. */
  points(start: number, count: number): Points<E>;
  /** Per-row terms, each `[count, ...]`, summed per example into the accumulators; inside `tf.tidy`. */
  terms(rows: PointRows<E>, evaluation: RowEvaluation): tf.Tensor[];
}

/**
 * Runs `job` and returns one tensor per term, `[numExamples, ...termShape]`: the sum over each
 * example's rows. The caller owns the results. Leak-free on success, error and abort.
 */
export async function accumulateOverPoints<E = undefined>(job: AccumulationJob<E>): Promise<tf.Tensor[]> {
  // sums[e][k]: running sum of term k for example e, shaped [1, ...termShape]. Chunks usually cover a
  // few consecutive examples, so each chunk only touches the examples it contains.
  const sums: (tf.Tensor[] | undefined)[] = new Array(job.numExamples);
  try {
    await forEachChunk(job, async (chunk) => {
      await job.prepare?.(chunk.start, chunk.count);
      tf.tidy(() => {
        const { rows, evaluation } = evaluateChunk(job, chunk);
        addPerExample(sums, job.terms(rows, evaluation), rows.examples);
      });
    });
    return tf.tidy(() => {
      const missing = sums.findIndex((s) => s === undefined);
      if (missing >= 0) throw new Error(`accumulateOverPoints: example ${missing} received no rows`);
      return sums[0]!.map((_, k) => tf.concat(sums.map((s) => s![k]), 0));
    });
  } finally {
    sums.forEach((s) => s?.forEach((t) => t.dispose()));
  }
}

/** A job for {@link collectOverRows}: per-row results kept in row order. */
export interface CollectionJob<E = undefined> extends Omit<AccumulationJob<E>, 'numExamples'> {}

/**
 * Runs `job` and returns one tensor per term, `[total, ...termShape]`: the terms of every row, in row
 * order (caller disposes). Leak-free on success, error and abort.
 */
export async function collectOverRows<E = undefined>(job: CollectionJob<E>): Promise<tf.Tensor[]> {
  const parts: tf.Tensor[][] = [];
  try {
    await forEachChunk(job, async (chunk) => {
      await job.prepare?.(chunk.start, chunk.count);
      parts.push(
        tf.tidy(() => {
          const { rows, evaluation } = evaluateChunk(job, chunk);
          return job.terms(rows, evaluation);
        }),
      );
    });
    return tf.tidy(() => parts[0].map((_, k) => (parts.length === 1 ? tf.clone(parts[0][k]) : tf.concat(parts.map((p) => p[k]), 0))));
  } finally {
    parts.forEach((p) => p.forEach((t) => t.dispose()));
  }
}

function evaluateChunk<E>(
  job: Pick<AccumulationJob<E>, 'points' | 'needs' | 'evaluator'>,
  chunk: Chunk,
): { rows: PointRows<E>; evaluation: RowEvaluation } {
  const { inputs, examples, extra } = job.points(chunk.start, chunk.count);
  const evaluation =
    job.needs === 'scores'
      ? { scores: evaluateScores(job.evaluator, inputs, examples, chunk.memory), gradients: null }
      : evaluateGradients(job.evaluator, inputs, examples, chunk.memory);
  return { rows: { inputs, examples, start: chunk.start, count: chunk.count, extra: extra as E }, evaluation };
}

/**
 * Adds each term's rows into their examples' running sums (inside a tidy: new sums are kept, the
 * replaced ones disposed). Rows of one example are summed with a one-hot product over the chunk's
 * example range.
 */
function addPerExample(sums: (tf.Tensor[] | undefined)[], terms: tf.Tensor[], examples: Int32Array): void {
  let first = examples[0];
  let last = examples[0];
  for (const e of examples) {
    first = Math.min(first, e);
    last = Math.max(last, e);
  }
  const span = last - first + 1;
  const local = Int32Array.from(examples, (e) => e - first);
  const selector = span === 1 ? null : oneHotRows(local, span);
  const perExample = terms.map((term) => {
    const rows = term.shape[0];
    const flat = tf.reshape(term, [rows, term.size / rows]);
    const summed = selector === null ? tf.sum(flat, 0, true) : transposedMatMul(selector, flat);
    return tf.split(tf.reshape(summed, [span, ...term.shape.slice(1)]), span, 0);
  });
  for (let i = 0; i < span; i++) {
    const e = first + i;
    const previous = sums[e];
    const next = perExample.map((parts, k) => tf.keep(previous ? tf.add(previous[k], parts[i]) : parts[i]));
    previous?.forEach((t) => t.dispose());
    sums[e] = next;
  }
}
