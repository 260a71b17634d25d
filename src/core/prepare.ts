/** The validation and set-up every attribution call starts with. */
import * as tf from '@tensorflow/tfjs-core';
import { KernelCache } from './backend-gaps';
import { GlassboxArgumentError, GlassboxModelError } from './errors';
import type { Evaluator } from './evaluate';
import { inputConsumers } from './layers-graph';
import { prepareInputs, type InputBatch } from './inputs';
import { resolveModel, type ModelLike, type ResolvedModel } from './model';
import { checkOptions, type BatchSize, type CommonOptions } from './options';
import { seedOption } from './seeded-random';
import { resolveTarget, type TargetSelector } from './target';

/** A validated attribution call. Its input snapshots are freed by {@link PreparedCall.dispose}. */
export interface PreparedCall {
  model: ResolvedModel;
  inputs: InputBatch;
  target: TargetSelector;
  evaluator: Evaluator;
  numExamples: number;
  /** The call's seed: `options.seed`, or a fresh random one. */
  seed: number;
  /** Chunk plan fields taken from the options (add `total`). */
  plan: { batchSize: BatchSize; onProgress?: (done: number, total: number) => void; signal?: AbortSignal };
  /** The only model input, for methods that take one (an error naming `method` for several). */
  single(method: string): tf.Tensor;
  /** One result tensor per model input, returned as `x` came: a tensor, or an array. */
  result(perInput: tf.Tensor[]): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

/** What a method needs from {@link prepareCall}. */
export interface CallSpec {
  /** Every option key the method accepts (common ones included). */
  keys: readonly string[];
  /** The method differentiates the model with respect to its inputs. */
  gradients: boolean;
  /**
   * The method reads inner layers and never explains an output (layer activations, neuron attributions):
   * a model with several outputs needs no `options.output`.
   */
  anyOutput?: boolean;
}

/**
 * Validates the options (unknown keys, types), `model` and `x` (one tensor, or one per model input,
 * batched and finite), resolves the target and snapshots the inputs.
 */
export async function prepareCall(model: ModelLike, x: unknown, options: unknown, spec: CallSpec): Promise<PreparedCall> {
  const checked = checkOptions(options, spec.keys);
  const o = (options ?? {}) as CommonOptions & { seed?: unknown };
  const seed = seedOption(o.seed as number | undefined);
  const resolved = resolveModel(model, checked.output ?? (spec.anyOutput ? 0 : undefined));
  if (spec.gradients) assertNoTokenInputs(resolved);
  const inputs = await prepareInputs(x, resolved);
  try {
    const target = await resolveTarget(o.target, inputs.numExamples);
    // One kernel cache per call: filters flipped (or laid out for a matrix product) once, reused by every chunk.
    const cache = new KernelCache();
    return {
      model: resolved,
      inputs,
      target,
      evaluator: { model: resolved, target, seed, scope: { cache, constants: resolved.weights() } },
      numExamples: inputs.numExamples,
      seed,
      plan: { batchSize: checked.batchSize, onProgress: checked.onProgress, signal: checked.signal },
      single: (method) => {
        if (inputs.tensors.length !== 1) {
          throw new GlassboxArgumentError('x', `${method} explains models with one input; this one has ${inputs.tensors.length}`);
        }
        return inputs.tensors[0];
      },
      result: (perInput) => (inputs.single ? perInput[0] : perInput),
      dispose: () => {
        cache.dispose();
        inputs.dispose();
      },
    };
  } catch (error) {
    inputs.dispose();
    throw error;
  }
}

/**
 * Gradients with respect to token ids do not exist: an input read by an Embedding gets an error that
 * names the layer and points to attributions at the embedding's output.
 */
function assertNoTokenInputs(model: ResolvedModel): void {
  const layers = model.layersModel;
  if (layers === null) return;
  layers.inputs.forEach((_, i) => {
    const embedding = inputConsumers(layers, i).find((layer) => layer.getClassName() === 'Embedding');
    if (embedding === undefined) return;
    throw new GlassboxModelError(
      `model input ${i} feeds the Embedding layer "${embedding.name}": its values are token ids, which have no gradient. ` +
        `Attribute at the embedding's output instead, e.g. layerIntegratedGradients(model, ids, { layer: '${embedding.name}', target }) ` +
        'and sum over the embedding axis for one score per token; perturbation methods (featureAblation, occlusion, kernelShap, lime) ' +
        'take token ids directly.',
    );
  });
}

/** Example indices `[start, start + count)` of the input batch. */
export function exampleRange(start: number, count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => start + i);
}

/** `[count, 1, 1, ...]`: a per-row column that broadcasts against rows of `featureRank` dimensions. */
export function perRow(values: Float32Array | number[], featureRank: number): tf.Tensor {
  return tf.tensor(values, [values.length, ...new Array<number>(featureRank).fill(1)], 'float32');
}

/** Rows `[start, start + count)` of every input: the examples themselves. */
export function exampleRows(call: PreparedCall, start: number, count: number): { inputs: tf.Tensor[]; examples: Int32Array } {
  return { inputs: call.inputs.tensors.map((t) => tf.slice(t, start, count)), examples: exampleRange(start, count) };
}
