/**
 * The gradient-weighted class-activation maps (pytorch-grad-cam's definitions), from the activation `A`
 * of a spatial layer and the gradient `g = ∂f_c/∂A` of the target score, summed over channels `k` and
 * rectified, then upsampled to the input:
 *
 * | method | map at the layer |
 * |---|---|
 * | Grad-CAM (Selvaraju et al. 2017) | `relu(Σ_k α_k A_k)`, `α_k = mean_ij g_k` |
 * | Grad-CAM++ (Chattopadhay et al. 2018) | `relu(Σ_k w_k A_k)`, `w_k = Σ_ij a_ij relu(g)`, `a = g²/(2g² + (Σ_ij A_k)·g³ + 1e−6)`, a = 0 where g = 0 |
 * | XGrad-CAM (Fu et al. 2020) | `relu(Σ_k w_k A_k)`, `w_k = Σ_ij g·A / (Σ_ij A_k + 1e−7)` |
 * | LayerCAM (Jiang et al. 2021) | `relu(Σ_k relu(g)·A)` per position |
 * | HiResCAM (Draelos & Carin 2020) | `relu(Σ_k g·A)` per position |
 *
 * On a network whose layer feeds global average pooling and a dense layer, Grad-CAM is the classic CAM
 * (Zhou et al. 2016) `Σ_k w_kc A_k` divided by the layer's `h·w`. Grad-CAM's ReLU can be turned off
 * (`relu: false`, Captum's default).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { assertBoolean } from '../../core/validate';
import { camInput, camLayers, camOverChunks, upsample, weightedSum, type CamTap } from './cam-layers';

/** Options of the CAMs that read one layer. */
export interface CamOptions extends CommonOptions {
  /**
   * Name of the layer to explain (any layer with output `[N, h, w, k]`, inside nested models too), usually
   * the last convolutional block. Default: the last layer of the model with a 4-D output of more than one spatial cell.
   */
  layer?: string;
}

/** Options of {@link gradCam}. */
export interface GradCamOptions extends CamOptions {
  /** Apply ReLU to the weighted sum (default true, as the paper). */
  relu?: boolean;
}

const GRAD_CAM_KEYS = optionKeys<GradCamOptions>()('layer', 'relu', ...COMMON_OPTION_KEYS);
const CAM_KEYS = optionKeys<CamOptions>()('layer', ...COMMON_OPTION_KEYS);

/** A CAM's map at the layer, `[n, h, w, 1]`, from its activation and gradient. */
type CamFormula = (tap: CamTap) => tf.Tensor;

const sumOverSpace = (t: tf.Tensor): tf.Tensor => tf.sum(t, [1, 2], true);

/** Grad-CAM's weighted sum at the layer, `Σ_k α_k A_k` with `α_k = mean_ij g_k`, `[n, h, w, 1]` (not rectified). */
export function gradCamSum({ activation, gradient }: CamTap): tf.Tensor4D {
  return weightedSum(tf.mean(gradient, [1, 2], true), activation);
}

/**
 * Grad-CAM map of the target score, shape `[N, H, W, 1]` for an image batch `x: [N, H, W, C]`.
 * @example
 * const cam = await gradCam(model, images, { target: 281, layer: 'conv_pw_13_relu' });
 */
export async function gradCam(model: ModelLike, x: tf.Tensor, options: GradCamOptions = {}): Promise<tf.Tensor4D> {
  const relu = assertBoolean(options?.relu ?? true, 'options.relu');
  return gradientCam('gradCam', model, x, options, GRAD_CAM_KEYS, (tap) => {
    const weighted = gradCamSum(tap);
    return relu ? tf.relu(weighted) : weighted;
  });
}

/** Grad-CAM++ map of the target score, `[N, H, W, 1]` (see the module table). */
export async function gradCamPlusPlus(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  return gradientCam('gradCamPlusPlus', model, x, options, CAM_KEYS, ({ activation, gradient }) => {
    const g2 = tf.square(gradient);
    const g3 = tf.mul(g2, gradient);
    const a = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumOverSpace(activation), g3)), 1e-6));
    const alpha = tf.where(tf.equal(gradient, 0), tf.zerosLike(a), a);
    return tf.relu(weightedSum(sumOverSpace(tf.mul(alpha, tf.relu(gradient))), activation));
  });
}

/** XGrad-CAM map of the target score, `[N, H, W, 1]` (see the module table). */
export async function xGradCam(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  return gradientCam('xGradCam', model, x, options, CAM_KEYS, ({ activation, gradient }) => {
    const weights = tf.div(sumOverSpace(tf.mul(gradient, activation)), tf.add(sumOverSpace(activation), 1e-7));
    return tf.relu(weightedSum(weights, activation));
  });
}

/** LayerCAM map of the target score, `[N, H, W, 1]` (see the module table). */
export async function layerCam(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  return gradientCam('layerCam', model, x, options, CAM_KEYS, ({ activation, gradient }) => tf.relu(weightedSum(tf.relu(gradient), activation)));
}

/** HiResCAM map of the target score, `[N, H, W, 1]` (see the module table). */
export async function hiResCam(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  return gradientCam('hiResCam', model, x, options, CAM_KEYS, ({ activation, gradient }) => tf.relu(weightedSum(gradient, activation)));
}

/** Validates, then evaluates `formula` at the layer for chunks of examples and upsamples to the input. */
async function gradientCam(
  method: string,
  model: ModelLike,
  x: tf.Tensor,
  options: CamOptions,
  keys: readonly string[],
  formula: CamFormula,
): Promise<tf.Tensor4D> {
  const call = await prepareCall(model, x, options, { keys, gradients: false });
  try {
    const input = camInput(call, method);
    const layers = camLayers(call, options?.layer, 'options.layer', method);
    const size: [number, number] = [input.shape[1], input.shape[2]];
    return (await camOverChunks(call, layers, 'gradients', ([tap]) => upsample(formula(tap), size))) as tf.Tensor4D;
  } finally {
    call.dispose();
  }
}
