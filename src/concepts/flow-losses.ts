/**
 * Training objectives of the invertible concept flow (Esser, Rombach & Ommer 2020), both to be
 * minimised and both with the constant `(D/2)·log 2π` left out:
 *
 * - {@link flowNll}: negative log-likelihood of `z = T(x)` under a standard normal,
 *   `mean_n(½‖z_n‖² − log|det J_n|)`.
 * - {@link disentanglingLoss}: for pairs (a, b) sharing factor F, b's factor F is modelled as
 *   `N(ρ·z̃ᵃ_F, (1 − ρ²) I)` given a's and every other factor as standard normal:
 *   `½‖z̃ᵃ‖² − logdet_a + Σ_{k≠F} ½‖z̃ᵇ_k‖² + ½‖z̃ᵇ_F − ρ z̃ᵃ_F‖²/(1 − ρ²) − logdet_b`, averaged over pairs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertNumberInRange } from '../core/validate';
import type { FlowOutput } from '../layers/invertible-concept-flow';

/** The correlation of shared factors used by Esser et al. */
export const DEFAULT_RHO = 0.975;

/**
 * `mean(½‖z‖² − logDet)`: the flow's negative log-likelihood per example (up to a constant), averaged.
 * Pass the result of `flow.forwardWithLogDet(x)`.
 */
export function flowNll(output: FlowOutput): tf.Scalar {
  assertFlowOutput(output, 'output');
  return tf.tidy(() => tf.mean(tf.sub(tf.mul(0.5, tf.sum(tf.square(output.z), 1)), output.logDet)));
}

/**
 * The disentangling loss for a batch of pairs; `shared[n]` is the index (into `factorSizes`) of the
 * factor that pair n shares, or −1 when it shares none. `factorSizes` are the sizes of all factors
 * including the residual (`flow.factorSizes`).
 */
export type DisentanglingLossFn = (
  a: FlowOutput,
  b: FlowOutput,
  shared: number | number[] | tf.Tensor1D,
  factorSizes: number[],
) => tf.Scalar;

/**
 * Returns the disentangling loss with correlation `rho` ∈ (0, 1) between the shared factors of a pair
 * (default 0.975). Usage: `disentanglingLoss()(flow.forwardWithLogDet(xa), flow.forwardWithLogDet(xb),
 * sharedFactor, flow.factorSizes)`. Shared-factor indices given as a tensor are not range-checked: an
 * index that is no factor counts as "shares none".
 */
export function disentanglingLoss(rho: number = DEFAULT_RHO): DisentanglingLossFn {
  assertNumberInRange(rho, 'rho', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  return (a, b, shared, factorSizes) => {
    assertFlowOutput(a, 'a');
    assertFlowOutput(b, 'b');
    const [n, dim] = a.z.shape;
    if (b.z.shape[0] !== n || b.z.shape[1] !== dim) {
      throw new GlassboxArgumentError('b.z', `expected the shape of a.z [${a.z.shape.join(', ')}], got [${b.z.shape.join(', ')}]`);
    }
    if (!Array.isArray(factorSizes) || !factorSizes.every((s) => Number.isInteger(s) && s >= 1)) {
      throw new GlassboxArgumentError('factorSizes', `expected an array of positive integers, got ${describeValue(factorSizes)}`);
    }
    const total = factorSizes.reduce((s, v) => s + v, 0);
    if (total !== dim) {
      throw new GlassboxArgumentError('factorSizes', `the sizes [${factorSizes.join(', ')}] add up to ${total}, but z has D = ${dim}; pass flow.factorSizes (it includes the residual)`);
    }
    const sharedIds = validateSharedFactors(shared, n, factorSizes.length);
    const dimFactor = factorSizes.flatMap((size, k) => new Array<number>(size).fill(k));
    return tf.tidy(() => {
      const ids = sharedIds instanceof tf.Tensor ? tf.cast(sharedIds, 'int32') : tf.tensor1d(sharedIds, 'int32');
      const mask = tf.cast(tf.equal(tf.expandDims(ids, 1), tf.expandDims(tf.tensor1d(dimFactor, 'int32'), 0)), 'float32');
      const nllA = tf.sub(tf.mul(0.5, tf.sum(tf.square(a.z), 1)), a.logDet);
      const independent = tf.mul(0.5, tf.sum(tf.mul(tf.sub(1, mask), tf.square(b.z)), 1));
      const conditional = tf.div(tf.mul(0.5, tf.sum(tf.mul(mask, tf.square(tf.sub(b.z, tf.mul(rho, a.z)))), 1)), 1 - rho * rho);
      const nllB = tf.sub(tf.add(independent, conditional), b.logDet);
      return tf.mean(tf.add(nllA, nllB));
    });
  };
}

/** Validates the shared-factor indices: a number for every pair, one per pair, or an int tensor [N]. */
function validateSharedFactors(shared: number | number[] | tf.Tensor1D, n: number, count: number): number[] | tf.Tensor1D {
  if (shared instanceof tf.Tensor) {
    if (shared.rank !== 1 || shared.shape[0] !== n) {
      throw new GlassboxArgumentError('shared', `expected a tensor of shape [${n}] (one factor index per pair), got ${describeValue(shared)}`);
    }
    return shared;
  }
  const ids = typeof shared === 'number' ? new Array<number>(n).fill(shared) : shared;
  if (!Array.isArray(ids) || ids.length !== n || !ids.every((k) => Number.isInteger(k) && k >= -1 && k < count)) {
    throw new GlassboxArgumentError('shared', `expected one factor index in [-1, ${count - 1}] per pair (${n} pairs), got ${describeValue(shared)}`);
  }
  return ids;
}

function assertFlowOutput(output: FlowOutput, argument: string): void {
  const ok =
    output !== null &&
    typeof output === 'object' &&
    output.z instanceof tf.Tensor &&
    output.logDet instanceof tf.Tensor &&
    output.z.rank === 2 &&
    output.logDet.rank === 1 &&
    output.logDet.shape[0] === output.z.shape[0];
  if (!ok) {
    throw new GlassboxArgumentError(argument, `expected { z: [N, D], logDet: [N] } from flow.forwardWithLogDet(x), got ${describeValue(output)}`);
  }
}
