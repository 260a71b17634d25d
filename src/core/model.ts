/**
 * Model adapters: every attribution accepts a {@link ModelLike} and works on the differentiable forward
 * function it stands for, from one tensor per model input to the one output being explained.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from './errors';
import { runLayersModel, type LayerTap } from './layers-graph';

/**
 * What can be explained: a tfjs-layers model (Sequential or functional), a `tf.GraphModel` (or anything
 * with a differentiable `predict`), or a plain function. A function of several inputs is called with one
 * tensor per input, `model(x1, x2, …)`, as Captum calls its forward functions.
 */
export type ModelLike =
  | tfl.LayersModel
  | {
      /** A differentiable forward pass (a `tf.GraphModel`'s `predict`, for example). */
      predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
    }
  | ((...x: tf.Tensor[]) => tf.Tensor | tf.Tensor[] | tf.NamedTensorMap);

/** A differentiable forward pass from a batch of inputs to a batch of outputs. */
export type ForwardFunction = (x: tf.Tensor) => tf.Tensor;

/** What is known about one model input (nothing, for plain functions). */
export interface ModelInput {
  name: string;
  /** Declared shape, batch axis first; `null` entries match any size. */
  shape: (number | null)[] | null;
  /** The dtype the model wants; inputs are cast to it at each forward pass (e.g. int32 image models). */
  dtype: tf.DataType;
}

/** A {@link ModelLike} resolved for one explained output. */
export interface ResolvedModel {
  readonly kind: 'layers' | 'graph' | 'predict' | 'function';
  /** The model's inputs, when it declares them (LayersModels and GraphModels). */
  readonly inputs: readonly ModelInput[] | null;
  /** The LayersModel itself, for methods that need its inner layers. */
  readonly layersModel: tfl.LayersModel | null;
  /** LayersModels and GraphModels: the index of the explained output among the model's outputs. */
  readonly outputIndex?: number;
  /** The output being explained, for one tensor per model input (batch first). */
  forward(inputs: readonly tf.Tensor[]): tf.Tensor;
  /**
   * LayersModels only: the same forward pass through the package's graph runner, with `tap` seeing (and
   * able to replace) every layer's output, nested models' layers included.
   */
  forwardTapped?(inputs: readonly tf.Tensor[], tap: LayerTap): tf.Tensor;
  /** The model's weight tensors (their gradients are never needed by an attribution). */
  weights(): tf.Tensor[];
}

/** Is `model` a tfjs-layers model (Sequential or functional)? */
export function isLayersModel(model: unknown): model is tfl.LayersModel {
  return model instanceof tfl.LayersModel;
}

/** A tfjs-converter GraphModel, recognised by its interface (the converter is an optional dependency). */
interface GraphModelLike {
  execute(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[];
  readonly inputs: tf.ModelTensorInfo[];
  readonly outputs: tf.ModelTensorInfo[];
  readonly inputNodes: string[];
  readonly outputNodes: string[];
  readonly weights: tf.NamedTensorMap | Record<string, tf.Tensor[]>;
}

function isGraphModel(model: unknown): model is GraphModelLike {
  const m = model as Partial<GraphModelLike> | null;
  return (
    m !== null &&
    typeof m === 'object' &&
    typeof m.execute === 'function' &&
    typeof (m as { predict?: unknown }).predict === 'function' &&
    Array.isArray(m.inputNodes) &&
    Array.isArray(m.outputNodes)
  );
}

/**
 * Resolves `model` for the output `output` (index or name; required when the model has several
 * outputs and they are known before running: LayersModels and GraphModels). The argument names in
 * errors are `model` and `options.output`.
 */
export function resolveModel(model: ModelLike, output?: number | string): ResolvedModel {
  if (isLayersModel(model)) return layersModelAdapter(model, output);
  if (isGraphModel(model)) return graphModelAdapter(model, output);
  if (typeof model === 'function') {
    return {
      kind: 'function',
      inputs: null,
      layersModel: null,
      forward: (inputs) => pickOutput(model(...inputs), output, 'the model function'),
      weights: () => [],
    };
  }
  if (model !== null && typeof model === 'object' && typeof (model as { predict?: unknown }).predict === 'function') {
    const predictor = model as { predict(x: tf.Tensor | tf.Tensor[]): unknown };
    return {
      kind: 'predict',
      inputs: null,
      layersModel: null,
      forward: (inputs) => {
        try {
          return pickOutput(predictor.predict(inputs.length === 1 ? inputs[0] : [...inputs]), output, 'model.predict');
        } catch (error) {
          throw explainPredictFailure(error);
        }
      },
      weights: () => [],
    };
  }
  throw new GlassboxArgumentError(
    'model',
    `expected a tf.LayersModel, a tf.GraphModel, an object with predict(x) or a function, got ${describeValue(model)}`,
  );
}

/**
 * A LayersModel runs through the package's graph runner ({@link runLayersModel}) in inference mode
 * (dropout off, batch norm with moving statistics): taped for gradients without `predict`'s own
 * batching, inner layers reachable, and dilated convolutions run unfused so they differentiate.
 */
function layersModelAdapter(model: tfl.LayersModel, output: number | string | undefined): ResolvedModel {
  const index = outputIndex(model.outputNames, output);
  return {
    kind: 'layers',
    inputs: model.inputs.map((input, i) => ({ name: model.inputNames[i], shape: input.shape, dtype: input.dtype })),
    layersModel: model,
    outputIndex: index,
    forward: (inputs) => runLayersModel(model, inputs)[index],
    forwardTapped: (inputs, tap) => runLayersModel(model, inputs, tap)[index],
    weights: () => model.weights.map((w) => w.read()),
  };
}

/** A GraphModel runs through `execute` for its chosen output only; inputs are cast to their dtypes. */
function graphModelAdapter(model: GraphModelLike, output: number | string | undefined): ResolvedModel {
  const names = model.outputs.map((o, i) => o.name ?? model.outputNodes[i]);
  const index = outputIndex(names, output);
  const outputName = model.outputNodes[index] ?? names[index];
  const inputs: ModelInput[] = model.inputs.map((input, i) => ({
    name: input.name ?? model.inputNodes[i],
    shape: input.shape ? input.shape.map((d) => (d === -1 || d === null ? null : d)) : null,
    dtype: input.dtype ?? 'float32',
  }));
  return {
    kind: 'graph',
    inputs,
    layersModel: null,
    outputIndex: index,
    forward: (values) => {
      const cast = values.map((v, i) => (v.dtype === inputs[i]?.dtype ? v : tf.cast(v, inputs[i].dtype)));
      const feed: tf.NamedTensorMap = {};
      inputs.forEach((input, i) => (feed[input.name] = cast[i]));
      try {
        const result = model.outputNodes.length === 1 ? model.execute(feed) : model.execute(feed, outputName);
        return Array.isArray(result) ? result[0] : result;
      } catch (error) {
        throw explainPredictFailure(error);
      }
    },
    weights: () => Object.values(model.weights).flatMap((w) => (Array.isArray(w) ? w : [w])),
  };
}

/** The index of the explained output among `names` (the only one when there is one). */
function outputIndex(names: readonly string[], output: number | string | undefined): number {
  const listed = names.map((n) => JSON.stringify(n)).join(', ');
  if (output === undefined) {
    if (names.length <= 1) return 0;
    throw new GlassboxArgumentError(
      'options.output',
      `is required: the model has ${names.length} outputs (${listed}); pass their index or name to choose the one to explain`,
    );
  }
  if (typeof output === 'number') {
    if (output < names.length) return output;
    throw new GlassboxArgumentError('options.output', `index ${output} is out of range: the model has ${names.length} outputs (${listed})`);
  }
  const index = names.findIndex((n) => n === output || n.replace(/:0$/, '') === output);
  if (index < 0) throw new GlassboxArgumentError('options.output', `the model has no output named ${JSON.stringify(output)}; its outputs: ${listed}`);
  return index;
}

/** One tensor out of what a function or `predict` returned, chosen by `options.output` when there are several. */
function pickOutput(result: unknown, output: number | string | undefined, who: string): tf.Tensor {
  if (result instanceof tf.Tensor) {
    if (output !== undefined && output !== 0) {
      throw new GlassboxArgumentError('options.output', `${who} returned one tensor; options.output ${JSON.stringify(output)} does not exist`);
    }
    return result;
  }
  if (Array.isArray(result) && result.every((t) => t instanceof tf.Tensor)) {
    if (typeof output === 'string') {
      throw new GlassboxArgumentError('options.output', `${who} returned ${result.length} tensors in an array; choose one by index, got ${JSON.stringify(output)}`);
    }
    return result[outputIndex(result.map((_, i) => `#${i}`), output)] as tf.Tensor;
  }
  if (result !== null && typeof result === 'object' && Object.values(result).every((t) => t instanceof tf.Tensor)) {
    const map = result as tf.NamedTensorMap;
    const names = Object.keys(map);
    return map[names[outputIndex(names, output)]];
  }
  throw new GlassboxModelError(`${who} returned ${describeValue(result)}; attributions need a tensor (or tensors, with options.output)`);
}

/** GraphModels with control flow only run through executeAsync, which tfjs cannot differentiate. */
function explainPredictFailure(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (/executeAsync|dynamic op|control flow/i.test(message)) {
    return new GlassboxModelError(
      'model contains control-flow or dynamic ops and can only run with executeAsync(); tfjs cannot ' +
        'differentiate such a graph, and glassbox evaluates models synchronously. Convert the model without ' +
        `control flow (e.g. a fixed-size export) to explain it. tfjs said: ${message}`,
    );
  }
  return error;
}
