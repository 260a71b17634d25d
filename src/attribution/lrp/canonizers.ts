/**
 * Canonizer MergeBatchNorm (Zennit; Motzkus et al. 2022 on why LRP needs it): a BatchNormalization
 * right after a linear layer (no activation between) is folded into that layer's parameters,
 * `scale = γ/√(var + eps)`, `W' = W·scale` per output channel, `b' = (b − μ)·scale + β`, and the
 * BatchNorm becomes the identity. The merged parameters live in the LRP program only: the user's model
 * and its weights are never touched.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Step } from './graph';
import type { LinearParameters } from './layer-catalogue';

type DraftStep = Omit<Step, 'rule'>;

/** The steps with mergeable BatchNorms folded in, the merged tensors (caller disposes) and slot aliases. */
export interface MergeResult {
  steps: DraftStep[];
  owned: tf.Tensor[];
  /** BatchNorm output slot → the linear step's output slot that replaces it. */
  aliases: Map<number, number>;
}

/**
 * Merges every BatchNorm step whose input is the output of a linear step used by nothing else (the
 * model output counts as a use). Steps are copied, never modified.
 */
export function mergeBatchNorms(steps: DraftStep[], output: number): MergeResult {
  const uses = new Map<number, number>([[output, 1]]);
  steps.forEach((s) => s.inputs.forEach((slot) => uses.set(slot, (uses.get(slot) ?? 0) + 1)));
  const producers = new Map(steps.map((s, i) => [s.output, i]));
  const result: DraftStep[] = steps.map((s) => ({ ...s }));
  const removed = new Set<number>();
  const owned: tf.Tensor[] = [];
  const aliases = new Map<number, number>();
  steps.forEach((step, index) => {
    if (step.kind !== 'batchnorm' || step.layer.getClassName() !== 'BatchNormalization') return;
    const producerIndex = producers.get(step.inputs[0]);
    if (producerIndex === undefined) return;
    const producer = result[producerIndex];
    if (!producer.linear?.scaleOutputs || producer.parameters === null || uses.get(producer.output) !== 1) return;
    if (!channelsLast(step.layer, step.inputRank)) return;
    const merged = mergedParameters(producer.parameters, step.layer, producer.linear.scaleOutputs);
    owned.push(merged.weight, merged.bias!);
    producer.parameters = merged;
    removed.add(index);
    aliases.set(step.output, producer.output);
  });
  return { steps: result.filter((_, i) => !removed.has(i)), owned, aliases };
}

function channelsLast(layer: tfl.layers.Layer, inputRank: number | undefined): boolean {
  const axis = layer.getConfig().axis;
  const value = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : axis;
  return value === -1 || (inputRank !== undefined && value === inputRank - 1);
}

/** `W' = W·scale`, `b' = (b − μ)·scale + β` with `scale = γ/√(var + eps)`. */
export function mergedParameters(
  parameters: LinearParameters,
  batchNorm: tfl.layers.Layer,
  scaleOutputs: (weight: tf.Tensor, scale: tf.Tensor) => tf.Tensor,
): { weight: tf.Tensor; bias: tf.Tensor } {
  const config = batchNorm.getConfig();
  const find = (name: string): tf.Tensor | null =>
    batchNorm.weights.find((w) => w.originalName.endsWith(`/${name}`))?.read() ?? null;
  const mean = find('moving_mean')!;
  const variance = find('moving_variance')!;
  const gamma = config.scale === false ? null : find('gamma');
  const beta = config.center === false ? null : find('beta');
  const epsilon = Number(config.epsilon ?? 1e-3);
  return tf.tidy(() => {
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = gamma === null ? inverseStd : tf.mul(gamma, inverseStd);
    const weight = scaleOutputs(parameters.weight, scale);
    const centred = parameters.bias === null ? tf.neg(mean) : tf.sub(parameters.bias, mean);
    const shifted = tf.mul(centred, scale);
    return { weight, bias: beta === null ? shifted : tf.add(shifted, beta) };
  });
}
