/**
 * Feature ablation (Captum's `FeatureAblation`): the attribution of a feature group is the drop of the
 * target score when the group is set to the baseline,
 * `φ_g = f_c(x) − f_c(x with group g set to b)`,
 * and every element of the group gets `φ_g`. Without a feature mask every input element is its own
 * group (occlusion with a 1-element window).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { coalitionScores, expandGroupValues, rowOffsets, scoreRows, type CoalitionPlan } from './coalition-scores';
import { featureGroups, type FeatureMask } from './feature-mask';

/** Options of {@link featureAblation}. */
export interface FeatureAblationOptions extends CommonOptions {
  /**
   * Value of ablated features: a number, a tensor shaped like `x`, like one example (`[1, ...]`) or one
   * value per channel (`[C]`); for several inputs, one per input in an array (default 0).
   */
  baseline?: number | tf.Tensor | (number | tf.Tensor)[];
  /**
   * Integer ids grouping the elements into features, shaped like one example (`[...features]`, axes of 1
   * broadcast), optionally with a batch axis of 1 or N; for several inputs one mask per input, ids shared
   * across them. Default: every element its own feature. See {@link FeatureMask}.
   */
  featureMask?: FeatureMask;
}

const FEATURE_ABLATION_KEYS = optionKeys<FeatureAblationOptions>()('baseline', 'featureMask', ...COMMON_OPTION_KEYS);

/**
 * Feature-ablation attribution of the target score, shaped like `x` (one tensor per input for a model
 * with several). Costs `1 + G` forward passes per example (`G` its number of groups); `batchSize`
 * bounds each pass. Only forward passes: works for any model, token-id inputs included (ablate with a
 * baseline id such as the padding token).
 * @example
 * const segments = await slic(tf.squeeze(image, [0]), { segments: 50 });
 * const map = await featureAblation(model, image, { target: 3, featureMask: superpixelMask(segments) });
 */
export async function featureAblation(model: ModelLike, x: tf.Tensor, options?: FeatureAblationOptions): Promise<tf.Tensor>;
export async function featureAblation(model: ModelLike, x: tf.Tensor[], options?: FeatureAblationOptions): Promise<tf.Tensor[]>;
export async function featureAblation(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: FeatureAblationOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: FEATURE_ABLATION_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  try {
    const g = await featureGroups(options.featureMask, call.inputs);
    baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    // Row 0: x itself; row 1 + k: group k ablated.
    const plan: CoalitionPlan = {
      rowsOf: (e) => 1 + g.countOf(e),
      coalition: (e, row, out, offset) => {
        out.fill(1, offset, offset + g.countOf(e));
        if (row > 0) out[offset + row - 1] = 0;
      },
    };
    const scores = await coalitionScores(call, g, baselines, plan);
    const rows = await scoreRows(scores, rowOffsets(plan, call.numExamples));
    const drops = rows.map((s) => Float64Array.from({ length: s.length - 1 }, (_, k) => s[0] - s[1 + k]));
    return call.result(expandGroupValues(g, drops));
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}
