/**
 * The one evaluation loop of the feature-group perturbation methods: target scores of inputs in which
 * some feature groups keep the example's values and the others take a reference's (the baseline, or for
 * feature permutation another example). A coalition is a 0/1 row over an example's groups (1: keep).
 * Every element is selected, never computed, so an all-ones coalition evaluates x itself, an all-zeros
 * one the reference itself, and integer inputs such as token ids stay integers.
 *
 * Rows are laid out example by example; they are evaluated in memory-bounded chunks by the engine
 * ({@link collectOverRows}), with progress counted in model evaluations and abort between chunks. The
 * inputs and references are read once; each chunk's rows are written in JavaScript and uploaded at once
 * (as RISE's masks are): on the cpu and wasm backends a backend gather or broadcast of the same rows costs
 * more than a small model's forward pass.
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
  const shapes = call.inputs.featureShapes;
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const inputValues = await Promise.all(call.inputs.tensors.map((t) => t.data()));
  const referenceValues = references === call.inputs.tensors ? inputValues : await Promise.all(references.map((t) => t.data()));
  const coalition = new Float32Array(width);
  const [scores] = await collectOverRows({
    ...call.plan,
    evaluator: call.evaluator,
    total: offsets[call.numExamples],
    needs: 'scores',
    points: (start, count) => {
      const examples = new Int32Array(count);
      const rows = sizes.map((size) => new Float32Array(count * size));
      let e = 0;
      while (offsets[e + 1] <= start) e++;
      for (let r = 0; r < count; r++) {
        while (offsets[e + 1] <= start + r) e++;
        const row = start + r - offsets[e];
        const source = plan.referenceExample?.(e, row) ?? e;
        examples[r] = e;
        coalition.fill(0);
        plan.coalition(e, row, coalition, 0);
        // Copy whichever of x and the reference most groups take, then write the other groups' elements.
        const groupCount = groups.countOf(e);
        let on = 0;
        for (let g = 0; g < groupCount; g++) on += coalition[g];
        const mostlyOn = 2 * on >= groupCount;
        for (let i = 0; i < sizes.length; i++) {
          const size = sizes[i];
          const [base, baseAt] = mostlyOn ? [inputValues[i], e * size] : [referenceValues[i], source * size];
          const [other, otherAt] = mostlyOn ? [referenceValues[i], source * size] : [inputValues[i], e * size];
          const out = rows[i];
          const at = r * size;
          out.set(base.subarray(baseAt, baseAt + size), at);
          const lists = groups.groupElements(i, e);
          for (let g = 0; g < groupCount; g++) {
            if ((coalition[g] === 1) === mostlyOn) continue;
            const elements = lists[g];
            for (let j = 0; j < elements.length; j++) out[at + elements[j]] = other[otherAt + elements[j]];
          }
        }
      }
      return { inputs: rows.map((values, i) => tf.tensor(values, [count, ...shapes[i]])), examples };
    },
    terms: (_rows, evaluation) => [evaluation.scores],
  });
  return scores as tf.Tensor1D;
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
