/**
 * The engine under every attribution: evaluate the target score (or its input gradient) at many points
 * derived from the examples, in memory-bounded chunks, and sum per-row terms into one accumulator per
 * example.
 *
 * A method supplies the points (interpolations, noisy copies, masked copies, ...), the rows' example
 * indices and the terms to sum; the engine handles chunking, targets, gradient taping, progress, abort,
 * the backend-gap fixes (through {@link inputGradient}) and tensor hygiene.
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotRows } from './one-hot';
import { forEachChunk, type ChunkPlan } from './chunks';
import { inputGradient } from './input-gradient';
import type { ForwardFunction } from './model';
import type { TargetSelector } from './target';

/** Rows `[start, start + count)` of the point set. */
export interface PointRows {
  /** Model inputs, `[count, ...featureShape]`. */
  inputs: tf.Tensor;
  /** The example each row belongs to. */
  examples: Int32Array;
  start: number;
  count: number;
}

/** What the engine computed for a chunk of rows. */
export interface RowEvaluation {
  /** Target scores, `[count]`. */
  scores: tf.Tensor1D | null;
  /** Input gradients of the target scores, `[count, ...featureShape]` (when requested). */
  gradients: tf.Tensor | null;
}

/** A job for {@link accumulateOverPoints}. */
export interface AccumulationJob extends ChunkPlan {
  forward: ForwardFunction;
  target: TargetSelector;
  /** Number of examples: the leading size of every accumulator. */
  numExamples: number;
  /** Evaluate gradients (true) or only scores (false). */
  needs: 'scores' | 'gradients';
  /** Builds rows `[start, start + count)` of the point set; runs inside `tf.tidy`. */
  points(start: number, count: number): { inputs: tf.Tensor; examples: Int32Array };
  /** Per-row terms, each `[count, ...]`, summed per example into the accumulators; inside `tf.tidy`. */
  terms(rows: PointRows, evaluation: RowEvaluation): tf.Tensor[];
}

/**
 * Runs `job` and returns one tensor per term, `[numExamples, ...termShape]`: the sum over each
 * example's rows. The caller owns the results. Leak-free on success, error and abort.
 */
export async function accumulateOverPoints(job: AccumulationJob): Promise<tf.Tensor[]> {
  // sums[e][k]: running sum of term k for example e, shaped [1, ...termShape]. Chunks usually cover a
  // few consecutive examples, so each chunk only touches the examples it contains.
  const sums: (tf.Tensor[] | undefined)[] = new Array(job.numExamples);
  try {
    await forEachChunk(job, (start, count) => {
      tf.tidy(() => {
        const { inputs, examples } = job.points(start, count);
        const evaluation = evaluateRows(job, inputs, examples);
        const terms = job.terms({ inputs, examples, start, count }, evaluation);
        addPerExample(sums, terms, examples);
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
    const summed = selector === null ? tf.sum(flat, 0, true) : tf.matMul(selector, flat, true, false);
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

/** Scores or input gradients of the target scores for a chunk of rows. */
export function evaluateRows(
  job: Pick<AccumulationJob, 'forward' | 'target' | 'needs'>,
  inputs: tf.Tensor,
  examples: Int32Array,
): RowEvaluation {
  if (job.needs === 'scores') return { scores: job.target.select(job.forward(inputs), examples), gradients: null };
  const gradients = inputGradient((x) => tf.sum(job.target.select(job.forward(x), examples)), inputs);
  return { scores: null, gradients };
}
