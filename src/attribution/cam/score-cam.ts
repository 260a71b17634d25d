/**
 * Score-CAM (Wang et al. 2020; pytorch-grad-cam's definition): gradient-free weights from forward
 * passes. Each channel `A_k` of a spatial layer is upsampled to the input (bilinear, corners aligned, as
 * `torch.nn.UpsamplingBilinear2d`), min-max normalised per example, `M_k = (A_k↑ − min)/(max − min +
 * 1e−8)`, and multiplied into the input; the target scores `s_k = f_c(x ⊙ M_k)` weight the channels
 * through a softmax over the channels, `w = softmax_k(s)`, and the map is `relu(Σ_k w_k A_k)`, upsampled
 * to the input. With the model's logits as scores this is exactly pytorch-grad-cam's ScoreCAM; a model
 * that ends in a softmax gives the paper's probability scores.
 *
 * Costs one forward pass per channel and example (`N · k` masked inputs, chunked by `batchSize`);
 * `onProgress` counts them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collectOverRows } from '../../core/accumulate';
import type { ModelLike } from '../../core/model';
import { oneHotRows } from '../../core/one-hot';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { camInput, camLayers, camOverChunks, upsample, weightedSum } from './cam-layers';
import type { CamOptions } from './gradient-cams';

const SCORE_CAM_KEYS = optionKeys<CamOptions>()('layer', ...COMMON_OPTION_KEYS);

/**
 * Score-CAM map of the target score, `[N, H, W, 1]` for an image batch `x: [N, H, W, C]`.
 * @example
 * const cam = await scoreCam(model, images, { target: 3, layer: 'features' });
 */
export async function scoreCam(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  const call = await prepareCall(model, x, options, { keys: SCORE_CAM_KEYS, gradients: false });
  let activations: tf.Tensor4D | undefined;
  try {
    const input = camInput(call, 'scoreCam');
    const layers = camLayers(call, options?.layer, 'options.layer', 'scoreCam');
    const [, height, width, channels] = input.shape;
    activations = (await camOverChunks(call, layers, 'activations', ([{ activation }]) => activation)) as tf.Tensor4D;
    const acts = activations;
    const k = acts.shape[3];
    const total = call.numExamples * k;
    // Row r masks example ⌊r/k⌋ with its channel r mod k.
    const [scores] = await collectOverRows({
      ...call.plan,
      evaluator: call.evaluator,
      total,
      needs: 'scores',
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / k));
        const channelOf = Int32Array.from({ length: count }, (_, i) => (start + i) % k);
        const perRow = tf.gather(acts, tf.tensor1d(examples, 'int32')); // [count, h, w, k]
        const picked = tf.sum(tf.mul(perRow, tf.reshape(oneHotRows(channelOf, k), [count, 1, 1, k])), 3, true);
        const up = tf.image.resizeBilinear(picked as tf.Tensor4D, [height, width], true);
        const min = tf.min(up, [1, 2, 3], true);
        const max = tf.max(up, [1, 2, 3], true);
        const mask = tf.div(tf.sub(up, min), tf.add(tf.sub(max, min), 1e-8));
        const images = tf.gather(input, tf.tensor1d(examples, 'int32'));
        return { inputs: [tf.mul(images, channels === 1 ? mask : tf.tile(mask, [1, 1, 1, channels]))], examples };
      },
      terms: (_rows, evaluation) => [evaluation.scores],
    });
    try {
      return tf.tidy(() => {
        const weights = tf.reshape(tf.softmax(tf.reshape(scores, [call.numExamples, k])), [call.numExamples, 1, 1, k]);
        return upsample(tf.relu(weightedSum(weights, acts)), [height, width]);
      });
    } finally {
      scores.dispose();
    }
  } finally {
    activations?.dispose();
    call.dispose();
  }
}
