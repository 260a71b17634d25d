/**
 * The one evaluation loop of the feature-group perturbation methods: target scores of inputs in which
 * some feature groups keep the example's values and the others take a reference's (the baseline, or for
 * feature permutation another example). A coalition is a 0/1 row over an example's groups (1: keep); the
 * perturbed input is `r + keep ⊙ (x − r)` for the reference r. (An all-ones coalition thus evaluates x up
 * to one rounding of `r + (x − r)`; integer inputs such as token ids stay exact.)
 *
 * Rows are laid out example by example; they are built and evaluated in memory-bounded chunks by the
 * engine ({@link collectOverRows}), with progress counted in model evaluations and abort between chunks.
 * The keep masks are written in JavaScript and uploaded once per chunk; the rows of one example are
 * formed by broadcasting its `[1, ...]` slices against the masks, never by gathering copies.
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
  /** The example whose values are the reference of a row (feature permutation); default: the references' own example. */
  referenceExample?(example: number, row: number): number;
}

/** The rows of a plan, example by example: example e owns rows `[offsets[e], offsets[e + 1])`. */
export function rowOffsets(plan: CoalitionPlan, numExamples: number): Int32Array {
  const offsets = new Int32Array(numExamples + 1);
  for (let e = 0; e < numExamples; e++) offsets[e + 1] = offsets[e] + plan.rowsOf(e);
  return offsets;
}

/**
 * Scores `[rows]` of every row of `plan` (example by example, see {@link rowOffsets}). `references`
 * holds one tensor per model input, `[numExamples, ...]` (baselines, or the inputs themselves). The caller
 * disposes the result.
 */
export async function coalitionScores(call: PreparedCall, groups: FeatureGroups, references: tf.Tensor[], plan: CoalitionPlan): Promise<tf.Tensor1D> {
  const width = groups.width;
  const offsets = rowOffsets(plan, call.numExamples);
  const permuted = plan.referenceExample !== undefined;
  // x − r per example, for rows that mix an example with its own reference.
  const differences = permuted ? [] : tf.tidy(() => call.inputs.tensors.map((x, i) => tf.sub(x, references[i])));
  try {
    const [scores] = await collectOverRows({
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
        const keep = groups.keep(values, examples);
        const inputs = permuted ? mixGathered(call.inputs.tensors, references, keep, examples, sources) : mixBySegments(references, differences, keep, examples);
        return { inputs, examples };
      },
      terms: (_rows, evaluation) => [evaluation.scores],
    });
    return scores as tf.Tensor1D;
  } finally {
    tf.dispose(differences);
  }
}

/** `r_e + keep ⊙ (x_e − r_e)` for runs of rows of one example e, from `[1, ...]` slices broadcast against the masks. */
function mixBySegments(references: tf.Tensor[], differences: tf.Tensor[], keep: tf.Tensor[], examples: Int32Array): tf.Tensor[] {
  const runs: [number, number][] = [];
  examples.forEach((e, r) => (r > 0 && e === examples[r - 1] ? runs[runs.length - 1][1]++ : runs.push([r, 1])));
  return references.map((reference, i) => {
    const parts = runs.map(([first, length]) => {
      const e = examples[first];
      const mask = runs.length === 1 ? keep[i] : tf.slice(keep[i], first, length);
      return tf.add(tf.slice(reference, e, 1), tf.mul(mask, tf.slice(differences[i], e, 1)));
    });
    return parts.length === 1 ? parts[0] : tf.concat(parts);
  });
}

/** `r + keep ⊙ (x − r)` with every row's example and reference example gathered (feature permutation). */
function mixGathered(inputs: tf.Tensor[], references: tf.Tensor[], keep: tf.Tensor[], examples: Int32Array, sources: Int32Array): tf.Tensor[] {
  const exampleIndices = tf.tensor1d(examples, 'int32');
  const sourceIndices = tf.tensor1d(sources, 'int32');
  return inputs.map((x, i) => {
    const reference = tf.gather(references[i], sourceIndices);
    return tf.add(reference, tf.mul(keep[i], tf.sub(tf.gather(x, exampleIndices), reference)));
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

/** Spreads per-example group values (padded to the groups' width) over the inputs' elements. */
export function expandGroupValues(groups: FeatureGroups, values: Float64Array[]): tf.Tensor[] {
  const table = new Float64Array(values.length * groups.width);
  values.forEach((row, e) => table.set(row, e * groups.width));
  return groups.expand(table);
}
