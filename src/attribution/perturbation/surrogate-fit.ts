/**
 * The shared path of the surrogate-model methods (KernelSHAP, LIME): evaluate the model on every sampled
 * coalition, fit a linear model of the scores over the coalitions per example, and spread each group's
 * coefficient over its elements.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PreparedCall } from '../../core/prepare';
import { coalitionScores, type CoalitionPlan } from './coalition-scores';
import type { FeatureGroups } from './feature-mask';

/** What a surrogate is fitted to, for all examples at once (S coalitions per example). */
export interface SurrogateData {
  /** The coalitions, example by example and row by row, `width` values each (0/1; columns past an example's groups are 0). */
  coalitions: Float32Array;
  /** The same as a tensor `[N, S, width]`. */
  design: tf.Tensor3D;
  /** The target scores `[N, S]`. */
  scores: tf.Tensor2D;
}

/**
 * Evaluates `plan` (the same number of rows S for every example), hands the data to `fit`, which returns
 * the coefficients `[N, width]`, and spreads them over the inputs. Every tensor but the result is freed.
 */
export async function fitSurrogate(
  call: PreparedCall,
  groups: FeatureGroups,
  references: tf.Tensor[],
  plan: CoalitionPlan,
  fit: (data: SurrogateData) => Promise<tf.Tensor2D>,
): Promise<tf.Tensor[]> {
  const n = call.numExamples;
  const samples = plan.rowsOf(0);
  const width = groups.width;
  // Drawn once: the rows and the regression read the same coalitions.
  const coalitions = new Float32Array(n * samples * width);
  for (let e = 0; e < n; e++) {
    for (let s = 0; s < samples; s++) plan.coalition(e, s, coalitions, (e * samples + s) * width);
  }
  const drawn: CoalitionPlan = {
    rowsOf: () => samples,
    coalition: (e, s, out, offset) => out.set(coalitions.subarray((e * samples + s) * width, (e * samples + s + 1) * width), offset),
  };
  const scores = await coalitionScores(call, groups, references, drawn);
  const data = tf.tidy(() => ({ design: tf.tensor3d(coalitions, [n, samples, width]), scores: tf.reshape(scores, [n, samples]) as tf.Tensor2D }));
  scores.dispose();
  let coefficients: tf.Tensor2D | undefined;
  try {
    coefficients = await fit({ coalitions, ...data });
    return groups.expand(await coefficients.data());
  } finally {
    tf.dispose(data);
    coefficients?.dispose();
  }
}
