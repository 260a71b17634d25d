/**
 * Invariance and co-information of a layer's representation L (its most informative units) with two
 * factors a and b:
 *
 * - invariance: the conditional information `I(L; a | b)` — how much L tells about a once the nuisance
 *   b is known (Xu et al. 2018: identity given pose, illumination, …);
 * - co-information `I(L; a) − I(L; a | b)` (McGill 1954): positive when what L carries about a is
 *   redundant with b, negative when L and b are synergistic about a.
 *
 * `I(L; a | b)` by the types of a and b: b discrete — `Σ_z p(z)·I(L_z; a_z)`, the class-conditional
 * estimators copula-normalised within each class of b ({@link gccmiDiscrete}, or {@link gcmiDiscrete}
 * within each class); both continuous — {@link gccmi}; a discrete and b continuous — the chain rule
 * `I((L, b); a) − I(b; a)`, two {@link gcmiDiscrete}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../core/errors';
import { estimateGccmi } from './gcmi';
import { estimateGccmiDiscrete, estimateGcmiDiscrete } from './gcmi-discrete';
import type { TieOptions } from './ties';
import { SATURATING } from './estimator-mode';

/** A factor as the pair estimators need it. */
export type FactorData =
  | { kind: 'discrete'; labels: Int32Array; numClasses: number }
  | { kind: 'continuous'; values: tf.Tensor2D };

/** A value, or why it could not be estimated. */
export interface Estimate {
  value: number | null;
  note?: string;
}

/** `I(L; a | b)` in bits for the layer's units `layer` `[N, k]`. */
export async function conditionalLayerInformation(layer: tf.Tensor2D, a: FactorData, b: FactorData, ties: TieOptions): Promise<Estimate> {
  const k = layer.shape[1];
  try {
    if (b.kind === 'continuous') {
      if (a.kind === 'continuous') return { value: await estimateGccmi(layer, a.values, b.values, ties, SATURATING) };
      const dims = b.values.shape[1];
      const small = a.labels.length > 0 && Math.min(...classSizes(a.labels, a.numClasses)) <= k + dims;
      if (small) return { value: null, note: `a class of the factor has at most ${k + dims} samples` };
      const joint = tf.concat([layer, b.values], 1);
      try {
        const withNuisance = await estimateGcmiDiscrete(joint, a.labels, a.numClasses, ties, SATURATING);
        return { value: withNuisance - (await estimateGcmiDiscrete(b.values, a.labels, a.numClasses, ties, SATURATING)) };
      } finally {
        joint.dispose();
      }
    }
    if (a.kind === 'continuous') {
      const dims = k + a.values.shape[1];
      if (Math.min(...classSizes(b.labels, b.numClasses)) <= dims) return { value: null, note: `a class of the nuisance has at most ${dims} samples` };
      return { value: await estimateGccmiDiscrete(layer, a.values, b.labels, b.numClasses, ties, SATURATING) };
    }
    return await withinClasses(layer, a, b, ties);
  } catch (error) {
    if (error instanceof GlassboxArgumentError) return { value: null, note: error.message };
    throw error;
  }
}

/** `Σ_z p(z)·I(L_z; a_z)` for discrete a and b, with a's classes relabelled within each class z of b. */
async function withinClasses(
  layer: tf.Tensor2D,
  a: { labels: Int32Array; numClasses: number },
  b: { labels: Int32Array; numClasses: number },
  ties: TieOptions,
): Promise<Estimate> {
  const n = b.labels.length;
  const k = layer.shape[1];
  let sum = 0;
  for (let z = 0; z < b.numClasses; z++) {
    const rows = Int32Array.from(Array.from(b.labels).flatMap((label, i) => (label === z ? [i] : [])));
    const present = [...new Set(Array.from(rows, (i) => a.labels[i]))].sort((p, q) => p - q);
    if (present.length < 2) continue; // a is constant within z: no information
    const relabelled = Int32Array.from(rows, (i) => present.indexOf(a.labels[i]));
    const sizes = classSizes(relabelled, present.length);
    if (Math.min(...sizes) <= k) return { value: null, note: `a (factor, nuisance) cell has at most ${k} samples` };
    const within = tf.tidy(() => tf.gather(layer, tf.tensor1d(rows, 'int32')));
    try {
      sum += (rows.length / n) * (await estimateGcmiDiscrete(within, relabelled, present.length, ties, SATURATING));
    } finally {
      within.dispose();
    }
  }
  return { value: sum };
}

function classSizes(labels: Int32Array, numClasses: number): number[] {
  const sizes = new Array<number>(numClasses).fill(0);
  labels.forEach((label) => sizes[label]++);
  return sizes;
}
