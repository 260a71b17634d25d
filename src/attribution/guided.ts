/**
 * Guided Integrated Gradients in the sense of Kwon, Koo, Cho (2020, "guided non-linearity"): Integrated
 * Gradients whose backward pass through ReLU, ReLU6 and max-pooling lets only positive gradients
 * through, as guided backpropagation does (Springenberg et al. 2015): at a ReLU, `relu(g) ⊙ 1[x > 0]`.
 *
 * The guided rules replace tfjs's gradients of the `Relu`, `Relu6` and `MaxPool` kernels while the
 * attribution runs and are restored afterwards (also on error). Inside gradient computations tfjs
 * evaluates fused activations unfused, so ReLUs fused into Dense/Conv layers are guided too. Other
 * gradient computations that run concurrently in the same tfjs instance see the guided rules as well:
 * await the call before starting them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveReference } from '../core/inputs';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS } from '../core/options';
import { prepareCall } from '../core/prepare';
import { pathIntegral, type IntegratedGradientsOptions } from './integrated-gradients';
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
      const [attribution] = await withGuidedGradients(() => pathIntegral(call, call.evaluator, baselines, alphas, weights));
      return attribution;
    } finally {
      baselines.forEach((b) => b.dispose());
    }
  } finally {
    call.dispose();
  }
}

type GradFunc = tf.GradConfig['gradFunc'];

/** Wraps a kernel's gradient so only the positive part of the incoming gradient passes. */
function positiveIncoming(original: tf.GradConfig): tf.GradConfig {
  const gradFunc: GradFunc = (dy, saved, attrs) => original.gradFunc(tf.relu(dy as tf.Tensor), saved, attrs);
  return { ...original, gradFunc };
}

const GUIDED_KERNELS = ['Relu', 'Relu6', 'MaxPool'] as const;

let activeScopes = 0;
let originals: Map<string, tf.GradConfig> | null = null;

/** Runs `run` with guided-backpropagation gradients for ReLU, ReLU6 and MaxPool, then restores tfjs's. */
export async function withGuidedGradients<T>(run: () => Promise<T>): Promise<T> {
  if (activeScopes++ === 0) {
    originals = new Map();
    for (const kernel of GUIDED_KERNELS) {
      const original = tf.getGradient(kernel);
      if (original === undefined) continue;
      originals.set(kernel, original);
      tf.registerGradient(positiveIncoming(original));
    }
  }
  try {
    return await run();
  } finally {
    if (--activeScopes === 0 && originals !== null) {
      for (const original of originals.values()) tf.registerGradient(original);
      originals = null;
    }
  }
}
