/**
 * Integrated Gradients with guided-backprop gradients, the "guided non-linearity" IG of Kwon, Koo, Cho
 * (2020) — not the adaptive-path Guided IG of Kapishnikov et al. (2021), hence the name: Integrated
 * Gradients whose backward pass through ReLU, ReLU6 and max-pooling lets only positive gradients
 * through, as guided backpropagation does (Springenberg et al. 2015): at a ReLU, `relu(g) ⊙ 1[x > 0]`.
 *
 * The guided rules replace tfjs's gradients of the `Relu`, `Relu6` and `MaxPool` kernels inside each
 * chunk's synchronous gradient scope only (see `guidedOverrides`), so no other code ever sees them.
 * Inside gradient computations tfjs evaluates fused activations unfused, so ReLUs fused into
 * Dense/Conv layers are guided too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { guidedOverrides } from '../core/backend-gaps';
import { warnDeprecated } from '../core/deprecation';
import { resolveReference } from '../core/inputs';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS } from '../core/options';
import { prepareCall } from '../core/prepare';
import { pathIntegral, type IntegratedGradientsOptions } from './integrated-gradients';
import { withGradientOverrides } from './modified-gradients';
import { quadrature } from './quadrature';

const GUIDED_IG_KEYS = optionKeys<IntegratedGradientsOptions>()('steps', 'method', 'baseline', ...COMMON_OPTION_KEYS);

/**
 * Integrated Gradients with guided-backprop gradients (Kwon et al. 2020) of the target score, shaped
 * like `x` (same options and defaults as {@link integratedGradients}: 50 Gauss–Legendre steps,
 * baseline 0).
 */
export async function guidedBackpropIntegratedGradients(model: ModelLike, x: tf.Tensor, options: IntegratedGradientsOptions = {}): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: GUIDED_IG_KEYS, gradients: true });
  try {
    const { alphas, weights } = quadrature(options.method ?? 'gausslegendre', options.steps ?? 50);
    const baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    try {
      // The guided rules replace tfjs's ReLU, ReLU6 and max-pool gradients inside each chunk's synchronous scope only.
      const guided = withGradientOverrides(call.evaluator, guidedOverrides({ maxPool: true }));
      const [attribution] = await pathIntegral(call, guided, baselines, alphas, weights);
      return attribution;
    } finally {
      baselines.forEach((b) => b.dispose());
    }
  } finally {
    call.dispose();
  }
}

/**
 * @deprecated Renamed {@link guidedBackpropIntegratedGradients}: "Guided Integrated Gradients" is
 * also the name of Kapishnikov et al.'s (2021) adaptive-path method, which this is not. Removed in the
 * next release.
 */
export async function guidedIntegratedGradients(model: ModelLike, x: tf.Tensor, options: IntegratedGradientsOptions = {}): Promise<tf.Tensor> {
  warnDeprecated('guidedIntegratedGradients', 'guidedBackpropIntegratedGradients');
  return guidedBackpropIntegratedGradients(model, x, options);
}
