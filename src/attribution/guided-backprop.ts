/**
 * Modified-ReLU gradients, with Captum's semantics: the gradient of the target score with respect to the
 * input, computed with the backward pass of every ReLU replaced (`g` the gradient arriving at the ReLU's
 * output, `z` its input):
 *
 * - guided backpropagation (Springenberg, Dosovitskiy, Brox, Riedmiller 2015): `relu(g)·1[z > 0]`;
 * - deconvolution (Zeiler & Fergus 2014): `relu(g)`, whatever the sign of `z`.
 *
 * Which kernels are modified: `Relu` (tfjs-layers' `'relu'` activations and `reLU` layers, a GraphModel's
 * Relu ops and fused ReLUs) as in Captum, and also `Relu6`, read as `min(relu(z), 6)` (the rectifier gets
 * the rule, the clipping at 6 keeps its gradient). Captum hooks `nn.ReLU` modules only, and PyTorch's
 * `nn.ReLU6` is not one, so on a ReLU6 network (MobileNetV2) Captum's guided backpropagation is the plain
 * gradient; here the same ReLU6 arrives as a `Relu6` kernel (GraphModels, `tf.relu6`) or as `Relu` then
 * `ClipByValue` (tfjs-layers' `reLU({ maxValue: 6 })`), and modifying only `Relu` would give two answers
 * for one function. Max pooling keeps its gradient (the "switches" of Zeiler & Fergus), as in Captum.
 * The rules exist only inside each chunk's synchronous gradient scope (see `guidedOverrides`).
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { deconvolutionOverrides, guidedOverrides } from '../core/backend-gaps';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../core/options';
import { inputGradientAttribution } from './gradient';

const KEYS = optionKeys<CommonOptions>()(...COMMON_OPTION_KEYS);

/**
 * Guided backpropagation of the target score, shaped like `x` (one tensor per input when `x` is an
 * array): the input gradient with each ReLU passing back `relu(g)·1[z > 0]`.
 * @example
 * const map = await guidedBackprop(model, images, { target: 3 });
 */
export async function guidedBackprop(model: ModelLike, x: tf.Tensor, options?: CommonOptions): Promise<tf.Tensor>;
export async function guidedBackprop(model: ModelLike, x: tf.Tensor[], options?: CommonOptions): Promise<tf.Tensor[]>;
export async function guidedBackprop(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: CommonOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  return inputGradientAttribution(model, x, options, KEYS, (gradient) => gradient, guidedOverrides());
}

/**
 * Deconvolution (Zeiler & Fergus 2014) of the target score, shaped like `x`: the input gradient with
 * each ReLU passing back `relu(g)`.
 * @example
 * const map = await deconvolution(model, images, { target: 3 });
 */
export async function deconvolution(model: ModelLike, x: tf.Tensor, options?: CommonOptions): Promise<tf.Tensor>;
export async function deconvolution(model: ModelLike, x: tf.Tensor[], options?: CommonOptions): Promise<tf.Tensor[]>;
export async function deconvolution(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: CommonOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  return inputGradientAttribution(model, x, options, KEYS, (gradient) => gradient, deconvolutionOverrides());
}
