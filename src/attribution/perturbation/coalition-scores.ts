/**
 * The one evaluation loop of the feature-group perturbation methods: target scores of inputs in which
 * some feature groups keep the example's values and the others take a reference's (the baseline, or for
 * feature permutation another example). A coalition is a 0/1 row over an example's groups (1: keep);
 * the perturbed input is `x ⊙ keep + reference ⊙ (1 − keep)`, exact for 0/1 masks, so an all-ones
 * coalition evaluates `x` itself and an all-zeros one the reference itself (token ids stay integers).
 *
 * Rows are laid out example by example; they are built and evaluated in memory-bounded chunks by the
 * engine ({@link collectOverRows}), with progress counted in model evaluations and abort between chunks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collectOverRows } from '../../core/accumulate';
import type { PreparedCall } from '../../core/prepare';
import type { FeatureGroups } from './feature-mask';

/** The rows of one method. */
export interface CoalitionPlan {
  /** Number of rows of example `example`. */
  rowsOf(example: number): number;
  /**
   * Writes the coalition of row `row` of example `example` (0/1 over its local groups; the rest of the
   * `width` entries stay 0) into `out` at `offset`.
   */
  coalition(example: number, row: number, out: Float32Array, offset: number): void;
  /** The example whose values are the reference of a row (default: the reference tensors' own example). */
  referenceExample?(example: number, row: number): number;
  /**
   * Further per-row terms computed from the perturbed inputs and the rows' examples (e.g. LIME's
   * similarity), each `[count]`; they are returned after the scores, in row order.
   */
  extraTerms?(perturbed: tf.Tensor[], originals: tf.Tensor[]): tf.Tensor[];
}

/** The rows of a plan, example by example: example e owns rows `[offsets[e], offsets[e + 1])`. */
export function rowOffsets(plan: CoalitionPlan, numExamples: number): Int32Array {
  const offsets = new Int32Array(numExamples + 1);
  for (let e = 0; e < numExamples; e++) offsets[e + 1] = offsets[e] + plan.rowsOf(e);
  return offsets;
}

/**
 * Scores of every row of `plan` (example by example, see {@link rowOffsets}), followed by the plan's
 * extra terms, each `[rows]`. `references` holds one tensor per model input, `[numExamples, ...]`
 * (baselines, or the inputs themselves). The caller disposes the results.
 */
export async function coalitionScores(call: PreparedCall, groups: FeatureGroups, references: tf.Tensor[], plan: CoalitionPlan): Promise<tf.Tensor[]> {
  const width = groups.width;
  const offsets = rowOffsets(plan, call.numExamples);
  return collectOverRows({
    ...call.plan,
    evaluator: call.evaluator,
    total: offsets[call.numExamples],
    needs: 'scores',
    points: (start, count) => {
      const examples = new Int32Array(count);
      const sources = new Int32Array(count);
      const values = new Float32Array(count * width);
      let e = 0;
      while (offsets[e + 1] <= start) e++;
      for (let i = 0; i < count; i++) {
        while (offsets[e + 1] <= start + i) e++;
        const row = start + i - offsets[e];
        examples[i] = e;
        sources[i] = plan.referenceExample?.(e, row) ?? e;
        plan.coalition(e, row, values, i * width);
      }
      const keep = groups.keep(tf.tensor2d(values, [count, width]), examples);
      const exampleIndices = tf.tensor1d(examples, 'int32');
      const sourceIndices = tf.tensor1d(sources, 'int32');
      const inputs = call.inputs.tensors.map((x, i) => {
        const kept = tf.mul(tf.gather(x, exampleIndices), keep[i]);
        return tf.add(kept, tf.mul(tf.gather(references[i], sourceIndices), tf.sub(1, keep[i])));
      });
      return { inputs, examples };
    },
    terms: (rows, evaluation) => {
      if (plan.extraTerms === undefined) return [evaluation.scores];
      const indices = tf.tensor1d(rows.examples, 'int32');
      const originals = call.inputs.tensors.map((x) => tf.gather(x, indices));
      return [evaluation.scores, ...plan.extraTerms(rows.inputs, originals)];
    },
  });
}

/** Reads the scores back (and disposes them) as float64 arrays, one per example with its rows' scores. */
export async function scoreRows(scores: tf.Tensor, offsets: Int32Array): Promise<Float64Array[]> {
  try {
    const values = await scores.data();
    return Array.from({ length: offsets.length - 1 }, (_, e) => Float64Array.from(values.subarray(offsets[e], offsets[e + 1])));
  } finally {
    scores.dispose();
  }
}

/** Uploads per-example group values (float64 rows, padded to `width`) as `[numExamples, width]` and spreads them over the inputs. */
export function expandGroupValues(groups: FeatureGroups, values: Float64Array[]): tf.Tensor[] {
  const table = new Float32Array(values.length * groups.width);
  values.forEach((row, e) => table.set(row, e * groups.width));
  const tensor = tf.tensor2d(table, [values.length, groups.width]);
  try {
    return groups.expand(tensor);
  } finally {
    tensor.dispose();
  }
}
