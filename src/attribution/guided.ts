/**
 * Guided Integrated Gradients in the sense of Kwon, Koo, Cho (2020, "guided non-linearity"): Integrated
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
 * Guided IG of the target score, shaped like `x` (same options and defaults as
 * {@link integratedGradients}: 50 Gauss–Legendre steps, baseline 0).
 */
export async function guidedIntegratedGradients(model: ModelLike, x: tf.Tensor, options: IntegratedGradientsOptions = {}): Promise<tf.Tensor> {
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
