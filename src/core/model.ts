/**
 * Model adapters: every attribution accepts a {@link ModelLike} and works on the differentiable
 * forward function it stands for.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from './errors';

/**
 * What can be explained: a tfjs-layers model (Sequential or functional), anything with a
 * differentiable `predict` (e.g. a `tf.GraphModel` without control flow), or a plain function.
 */
export type ModelLike =
  | tfl.LayersModel
  | {
      /** A differentiable forward pass (a `tf.GraphModel`'s `predict`, for example). */
      predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
    }
  | ((x: tf.Tensor) => tf.Tensor);

/** A differentiable forward pass from a batch of inputs to a batch of outputs. */
export type ForwardFunction = (x: tf.Tensor) => tf.Tensor;

/** Is `model` a tfjs-layers model (Sequential or functional)? */
export function isLayersModel(model: unknown): model is tfl.LayersModel {
  return model instanceof tfl.LayersModel;
}

/**
 * Turns a {@link ModelLike} into a forward function. LayersModels run through `apply` in inference
 * mode (dropout off, batch norm uses moving statistics), so the pass is taped for gradients without
 * `predict`'s own batching.
 */
export function toForwardFunction(model: ModelLike, argument = 'model'): ForwardFunction {
  if (isLayersModel(model)) {
    if (model.inputs.length !== 1) {
      throw new GlassboxArgumentError(
        argument,
        `expected a model with one input, got ${model.inputs.length}; wrap it in a function of one tensor`,
      );
    }
    return (x) => singleOutput(model.apply(x, { training: false }), argument);
  }
  if (typeof model === 'function') return (x) => singleOutput(model(x), argument);
  if (model !== null && typeof model === 'object' && typeof (model as { predict?: unknown }).predict === 'function') {
    const predictor = model as { predict(x: tf.Tensor): unknown };
    return (x) => {
      try {
        return singleOutput(predictor.predict(x), argument);
      } catch (error) {
        throw explainPredictFailure(error, argument);
      }
    };
  }
  throw new GlassboxArgumentError(
    argument,
    `expected a tf.LayersModel, an object with predict(x) (e.g. a tf.GraphModel) or a function, got ${describeValue(model)}`,
  );
}

/**
 * Checks `x` against a LayersModel's declared input shape (`null` dimensions match anything), so a
 * mismatch is reported by argument name instead of deep inside a layer.
 */
export function assertFitsModelInput(model: ModelLike, x: tf.Tensor, argument = 'x'): void {
  if (!isLayersModel(model)) return;
  const expected = model.inputs[0].shape;
  const fits = expected.length === x.rank && expected.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!fits) {
    const shown = expected.map((d) => (d === null ? 'any' : String(d))).join(', ');
    throw new GlassboxArgumentError(argument, `expected shape [${shown}] (the model's input), got [${x.shape.join(', ')}]`);
  }
}

function singleOutput(output: unknown, argument: string): tf.Tensor {
  if (output instanceof tf.Tensor) return output;
  const count = Array.isArray(output) ? output.length : output && typeof output === 'object' ? Object.keys(output).length : 0;
  throw new GlassboxModelError(
    `${argument} returned ${count > 0 ? `${count} outputs` : describeValue(output)}; attributions need one output ` +
      'tensor: pass a function (x) => the output to explain',
  );
}

/** GraphModels with control flow only run through executeAsync, which tfjs cannot differentiate. */
function explainPredictFailure(error: unknown, argument: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (/executeAsync|dynamic op|control flow/i.test(message)) {
    return new GlassboxModelError(
      `${argument} contains control-flow or dynamic ops and can only run with executeAsync(); tfjs cannot ` +
        'differentiate such a graph, and glassbox evaluates models synchronously. Convert the model without ' +
        `control flow (e.g. a fixed-size export) to explain it. tfjs said: ${message}`,
    );
  }
  return error;
}
