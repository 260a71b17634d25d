/**
 * Activations of inner layers of a LayersModel and the gradients of the target score with respect to
 * them, for the class-activation maps and the layer attributions.
 *
 * The model runs through the package's graph runner ({@link runLayersModel}, nested models expanded),
 * with one change: the output `A_l` of each requested layer becomes `A_l + δ_l` with `δ_l = 0`
 * (optionally after the caller replaces `A_l`, e.g. by a point on an integration path). The gradient of
 * the score with respect to `δ_l` is `∂f_c/∂A_l`, the total derivative through every path downstream
 * of the layer, for all requested layers in one backward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxArgumentError } from '../core/errors';
import type { Evaluator } from '../core/evaluate';
import { tapedGradients } from '../core/input-gradient';
import { applications, findLayer } from '../core/layers-graph';
import type { MemoryProbe } from '../core/memory-budget';
import type { ResolvedModel } from '../core/model';
import { withRowContext } from '../core/row-context';

type Layer = tfl.layers.Layer;

/**
 * The layers named `names` in the model (nested models included), each applied exactly once. Errors
 * name `argument` (with `[i]` for several) and list the valid names.
 */
export function tapLayers(model: ResolvedModel, names: readonly unknown[], argument: string, method: string): Layer[] {
  const layersModel = model.layersModel;
  if (layersModel === null || model.forwardTapped === undefined) {
    throw new GlassboxArgumentError('model', `${method} needs a tf.LayersModel (its inner layers are read), got a ${model.kind === 'graph' ? 'GraphModel' : model.kind}`);
  }
  return names.map((name, i) => {
    const where = names.length === 1 ? argument : `${argument}[${i}]`;
    let layer = findLayer(layersModel, name, where);
    // A model used as the first layer of a Sequential is not a node of its graph: its inner graph is.
    // Its output is then its last inner layer's output.
    while (applications(layersModel, layer) === 0 && layer instanceof tfl.LayersModel && layer.outputs.length === 1) {
      layer = layer.outputs[0].sourceLayer;
    }
    const count = applications(layersModel, layer);
    if (count !== 1) {
      throw new GlassboxArgumentError(
        where,
        count === 0
          ? `layer ${JSON.stringify(name)} does not feed the model's output`
          : `layer ${JSON.stringify(name)} runs ${count} times in the model; its output is ambiguous`,
      );
    }
    return layer;
  });
}

/** What {@link layerGradients} computed for a chunk of rows. */
export interface LayerGradients {
  /** Target scores `[rows]`. */
  scores: tf.Tensor1D;
  /** Each tapped layer's output `A_l` (as computed, before any replacement). */
  activations: tf.Tensor[];
  /** `∂Σ_rows f_c/∂A_l` at the value the layer passed on, one per tapped layer. */
  gradients: tf.Tensor[];
}

/**
 * Runs the model on `inputs` (rows of examples `examples`) and differentiates the sum of the target
 * scores with respect to every tapped layer's output. `replace(i, A_i)` may substitute the value the
 * layer passes on (default: the activation itself). The caller owns the results; nothing leaks when
 * the model or the target throws.
 */
export function layerGradients(
  evaluator: Evaluator,
  layers: readonly Layer[],
  inputs: readonly tf.Tensor[],
  examples: Int32Array,
  options: { memory?: MemoryProbe; replace?: (i: number, activation: tf.Tensor) => tf.Tensor } = {},
): LayerGradients {
  const model = evaluator.model;
  return withRowContext({ seed: evaluator.seed, examples }, () => {
    const shapes = outputShapes(model, layers, inputs);
    const deltas = shapes.map((shape) => tf.zeros(shape));
    try {
      const { gradients, kept } = tapedGradients<[tf.Tensor1D, ...tf.Tensor[]]>(
        (d, keep) => {
          const activations: tf.Tensor[] = [];
          const output = model.forwardTapped!(inputs, (layer, value) => {
            const i = layers.indexOf(layer);
            if (i < 0) return value;
            activations[i] = value;
            return tf.add(options.replace ? options.replace(i, value) : value, d[i]);
          });
          const scores = evaluator.target.select(output, examples);
          keep([scores, ...activations]);
          return tf.sum(scores);
        },
        deltas,
        { memory: options.memory, scope: evaluator.scope },
      );
      const [scores, ...activations] = kept!;
      return { scores, activations, gradients };
    } finally {
      deltas.forEach((d) => d.dispose());
    }
  });
}

/** Forward-only outputs of the tapped layers (no gradient tape), one per layer. */
export function layerActivations(evaluator: Evaluator, layers: readonly Layer[], inputs: readonly tf.Tensor[], examples: Int32Array): tf.Tensor[] {
  return withRowContext({ seed: evaluator.seed, examples }, () =>
    tf.tidy(() => {
      const activations: tf.Tensor[] = [];
      evaluator.model.forwardTapped!(inputs, (layer, value) => {
        const i = layers.indexOf(layer);
        if (i >= 0) activations[i] = value;
        return value;
      });
      return activations;
    }),
  );
}

/** Output shapes of the tapped layers for `inputs` (a forward pass when the symbolic shape is not fixed). */
function outputShapes(model: ResolvedModel, layers: readonly Layer[], inputs: readonly tf.Tensor[]): number[][] {
  const rows = inputs[0].shape[0];
  const symbolic = layers.map((layer) => layer.outputShape as (number | null)[]);
  if (symbolic.every((shape) => Array.isArray(shape) && !Array.isArray(shape[0]) && shape.slice(1).every((d) => d !== null))) {
    return symbolic.map((shape) => [rows, ...(shape.slice(1) as number[])]);
  }
  const shapes: number[][] = [];
  tf.tidy(() => {
    model.forwardTapped!(inputs, (layer, value) => {
      const i = layers.indexOf(layer);
      if (i >= 0) shapes[i] = value.shape;
      return value;
    });
  });
  return shapes;
}
