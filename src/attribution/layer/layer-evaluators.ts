/**
 * The layer of a layer or neuron attribution, and two views of the model around it that let the
 * engine's chunked evaluation ({@link accumulateOverPoints}, {@link collectOverRows}) differentiate at
 * that layer:
 *
 * - {@link layerOutputEvaluator}: the model cut at the layer, its output being the layer's output `A(x)`
 *   (neuron attribution: the target picks one neuron of `A`);
 * - {@link replacedLayerEvaluator}: the model with one more input, the value the layer passes on, so that
 *   `f(x; A := a)` runs every layer as usual but continues from `a` after the layer. Its gradient with
 *   respect to that input is `∂f_c/∂A` at `A = a` (layer IG, conductance, gradient × activation).
 *
 * Both run the LayersModel through the package's graph runner (nested models expanded), so any layer is
 * reached by its own name.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { Evaluator } from '../../core/evaluate';
import type { ResolvedModel } from '../../core/model';
import type { PreparedCall } from '../../core/prepare';
import type { TargetSelector } from '../../core/target';
import { tapLayers } from '../layer-gradients';

type Layer = tfl.layers.Layer;

/**
 * The layer named `name` (inside nested models too), applied once in the model and with one output
 * tensor. Errors name `options.layer`; a model that is not a LayersModel is an error naming `method`.
 */
export function attributedLayer(call: PreparedCall, name: unknown, method: string): Layer {
  const [layer] = tapLayers(call.model, [name], 'options.layer', method);
  const shape = layer.outputShape as unknown[];
  if (Array.isArray(shape[0])) {
    throw new GlassboxArgumentError('options.layer', `layer ${JSON.stringify(name)} has ${shape.length} outputs; ${method} reads a layer with one output tensor`);
  }
  return layer;
}

/** The layer's symbolic output shape without the batch axis (`null` for sizes fixed only at run time). */
export function layerFeatureShape(layer: Layer): (number | null)[] {
  return (layer.outputShape as (number | null)[]).slice(1);
}

/** `evaluator` with the model cut at `layer` (its output is the layer's output) and the score chosen by `target`. */
export function layerOutputEvaluator(evaluator: Evaluator, layer: Layer, target: TargetSelector): Evaluator {
  const model = evaluator.model;
  const cut: ResolvedModel = {
    kind: model.kind,
    inputs: model.inputs,
    layersModel: model.layersModel,
    forward: (inputs) => layerOutput(model, layer, inputs),
    weights: () => model.weights(),
  };
  return { ...evaluator, target, model: cut };
}

/**
 * `evaluator` with one more model input after the model's own: the value `layer` passes on, shaped like
 * its output (`[rows, ...]`). The layer itself still runs (its masks and any other consumer of its
 * inputs are as for the given inputs); only what follows it sees the replacement.
 */
export function replacedLayerEvaluator(evaluator: Evaluator, layer: Layer): Evaluator {
  const model = evaluator.model;
  const replaced: ResolvedModel = {
    kind: model.kind,
    inputs: model.inputs === null ? null : [...model.inputs, { name: layer.name, shape: layer.outputShape as (number | null)[], dtype: 'float32' }],
    layersModel: model.layersModel,
    forward: (inputs) => {
      const value = inputs[inputs.length - 1];
      return model.forwardTapped!(inputs.slice(0, -1), (l, v) => (l === layer ? value : v));
    },
    weights: () => model.weights(),
  };
  return { ...evaluator, model: replaced };
}

/** The output of `layer` when the model runs on `inputs`. */
function layerOutput(model: ResolvedModel, layer: Layer, inputs: readonly tf.Tensor[]): tf.Tensor {
  let output: tf.Tensor | undefined;
  model.forwardTapped!(inputs, (l, v) => {
    if (l === layer) output = v;
    return v;
  });
  if (output === undefined) throw new GlassboxArgumentError('options.layer', `layer ${describeValue(layer.name)} did not run in the forward pass`);
  return output;
}
