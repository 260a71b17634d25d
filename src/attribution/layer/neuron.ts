/**
 * The neuron of a neuron attribution: one element of an inner layer's output per example, addressed by
 * its index without the batch axis (Captum's `neuron_selector` as a tuple), used as the score to explain.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { Evaluator } from '../../core/evaluate';
import type { TargetSelector } from '../../core/target';
import { layerFeatureShape, layerOutputEvaluator } from './layer-evaluators';

/**
 * The evaluator whose score is neuron `neuron` of `layer`'s output (the model cut at the layer). The
 * index is checked against the layer's declared shape now and against its actual shape when it runs;
 * errors name `options.neuron`.
 */
export function neuronEvaluator(evaluator: Evaluator, layer: tfl.layers.Layer, neuron: unknown): Evaluator {
  const shape = layerFeatureShape(layer);
  const index = neuronIndex(neuron, shape, layer.name);
  return layerOutputEvaluator(evaluator, layer, neuronSelector(index, layer.name));
}

function neuronIndex(neuron: unknown, shape: (number | null)[], layerName: string): number[] {
  const described = `[${shape.map((d) => (d === null ? 'any' : String(d))).join(', ')}]`;
  if (!Array.isArray(neuron) || neuron.length !== shape.length || !neuron.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new GlassboxArgumentError(
      'options.neuron',
      `expected ${shape.length} non-negative integer${shape.length === 1 ? '' : 's'}, an index into the output of layer ` +
        `${JSON.stringify(layerName)} without the batch axis (shape ${described}), got ${describeValue(neuron)}`,
    );
  }
  assertInside(neuron, shape, layerName);
  return neuron;
}

function assertInside(index: number[], shape: readonly (number | null)[], layerName: string): void {
  const outside = index.findIndex((i, axis) => shape[axis] !== null && i >= shape[axis]!);
  if (outside >= 0) {
    throw new GlassboxArgumentError(
      'options.neuron',
      `index ${index[outside]} on axis ${outside} is out of range: layer ${JSON.stringify(layerName)} outputs ` +
        `[${shape.map((d) => (d === null ? 'any' : String(d))).join(', ')}] per example`,
    );
  }
}

/** Selects `output[r, ...index]` for every row r. */
function neuronSelector(index: number[], layerName: string): TargetSelector {
  return {
    indices: null,
    select(output) {
      assertInside(index, output.shape.slice(1), layerName);
      const rows = output.shape[0];
      return tf.reshape(tf.slice(output, [0, ...index], [rows, ...index.map(() => 1)]), [rows]) as tf.Tensor1D;
    },
  };
}
