/**
 * Gaussian-copula mutual information between continuous variables (Ince et al. 2017, gcmi's
 * `gcmi_cc` and `gccmi_ccc`), in bits: every column is copula-normalised ({@link copnorm}), then the
 * bias-corrected Gaussian estimators run on one joint covariance `CᵀC/(N − 1)` of the normal scores,
 * NOT demeaned again (the scores of N distinct ranks have mean exactly 0). A lower bound on the true
 * mutual information, invariant to strictly increasing transforms of every column.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readCovariance } from './covariance';
import { withCopula, jittered } from './copula-variables';
import { conditionalInformationOf, mutualInformationOf, partOf, withVariables } from './gaussian-information';
import { assertEnoughSamples } from './samples';
import { tieOptions, warnAboutTies, type TieOptions } from './ties';
import { STRICT, type EstimatorMode } from './estimator-mode';

/** `I(x; y)` in bits for continuous `x` `[N, dx]` and `y` `[N, dy]` (or `[N]`). */
export async function gcmi(x: tf.Tensor, y: tf.Tensor, options: TieOptions = {}): Promise<number> {
  return estimateGcmi(x, y, tieOptions(options), STRICT);
}

/** {@link gcmi}, in the given {@link EstimatorMode}. */
export async function estimateGcmi(x: tf.Tensor, y: tf.Tensor, options: TieOptions, mode: EstimatorMode): Promise<number> {
  return withVariables([[x, 'x'], [y, 'y']], async (variables) => {
    assertEnoughSamples(variables[0].matrix.shape[0], variables[0].matrix.shape[1] + variables[1].matrix.shape[1], 'y');
    return withCopula(variables, options, async ({ scored, repeats }) => {
      const { covariance, extras } = await readCovariance(scored, { demean: false, checked: variables, extras: repeats });
      if (mode.warnTies) warnAboutTies(variables.map((v, i) => ({ argument: v.argument, repeats: extras[i] })), jittered(options));
      return mutualInformationOf(covariance, variables[0].matrix.shape[0], scored.map(partOf), true, mode.saturate);
    });
  });
}

/** `I(x; y | z)` in bits for continuous `x`, `y` and `z` (gcmi `gccmi_ccc`). */
export async function gccmi(x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, options: TieOptions = {}): Promise<number> {
  return estimateGccmi(x, y, z, tieOptions(options), STRICT);
}

/** {@link gccmi}, in the given {@link EstimatorMode}. */
export async function estimateGccmi(x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, options: TieOptions, mode: EstimatorMode): Promise<number> {
  return withVariables([[x, 'x'], [y, 'y'], [z, 'z']], async (variables) => {
    assertEnoughSamples(variables[0].matrix.shape[0], variables.reduce((d, v) => d + v.matrix.shape[1], 0), 'z');
    return withCopula(variables, options, async ({ scored, repeats }) => {
      const { covariance, extras } = await readCovariance(scored, { demean: false, checked: variables, extras: repeats });
      if (mode.warnTies) warnAboutTies(variables.map((v, i) => ({ argument: v.argument, repeats: extras[i] })), jittered(options));
      return conditionalInformationOf(covariance, variables[0].matrix.shape[0], scored.map(partOf), true, mode.saturate);
    });
  });
}
