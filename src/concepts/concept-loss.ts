/**
 * Concept supervision for a {@link SemanticBottleneck} (Losch, Fritz & Schiele 2019): a cross-entropy
 * per concept group, averaged over the pixels that carry a label for that group, summed over groups.
 *
 * Labels have the shape of the bottleneck's output, [..., K]: within each group a one-hot vector
 * where the pixel has a label, all zeros where it has none (those pixels are ignored). That is the
 * format `fit` needs (targets shaped like the output) and the format {@link inspectability} reads as
 * concept masks. {@link conceptMasksFromLabels} builds it from per-group index maps.
 *
 * `L = Σ_g [ Σ_p −Σ_{k∈g} y_{p,k} log max(p_{p,k}, ε) ] / max(1, Σ_p Σ_{k∈g} y_{p,k})`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertNumberInRange } from '../core/validate';
import { conceptGroups, type ConceptGroup } from '../layers/semantic-bottleneck';

/** Concept groups given as sizes, as `{ name, size }` groups, or by the bottleneck layer itself. */
export type ConceptGroupsLike =
  | readonly number[]
  | readonly ConceptGroup[]
  | {
      /** The groups of a {@link SemanticBottleneck} (the layer itself can be passed). */
      readonly groups: readonly ConceptGroup[];
    };

/** Options of {@link maskedGroupCrossEntropy} and {@link conceptLoss}. */
export interface ConceptLossOptions {
  /** Probabilities are clipped below at ε before the logarithm. Default 1e−7. */
  epsilon?: number;
}

/** The group sizes of `groups`, validated. */
export function groupSizes(groups: ConceptGroupsLike, argument = 'groups'): number[] {
  const list = !Array.isArray(groups) && groups && typeof groups === 'object' && 'groups' in groups ? groups.groups : groups;
  if (Array.isArray(list) && list.every((g) => typeof g === 'number')) {
    return conceptGroups(list.map((size, i) => ({ name: `group${i}`, size })), argument).map((g) => g.size);
  }
  return conceptGroups(list, argument).map((g) => g.size);
}

/**
 * The masked per-group cross-entropy of `probabilities` (the bottleneck's output, [..., K]) against
 * `labels` (same shape, one-hot per group or all zeros for "no label"). Returns a scalar.
 */
export function maskedGroupCrossEntropy(
  labels: tf.Tensor,
  probabilities: tf.Tensor,
  groups: ConceptGroupsLike,
  options: ConceptLossOptions = {},
): tf.Scalar {
  const sizes = groupSizes(groups);
  const { epsilon = 1e-7 } = options;
  assertNumberInRange(epsilon, 'options.epsilon', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  for (const [value, name] of [[labels, 'labels'], [probabilities, 'probabilities']] as const) {
    if (!(value instanceof tf.Tensor) || value.rank < 2) {
      throw new GlassboxArgumentError(name, `expected a tf.Tensor of shape [batch, ..., K], got ${describeValue(value)}`);
    }
  }
  const k = sizes.reduce((a, b) => a + b, 0);
  const channels = probabilities.shape[probabilities.rank - 1];
  if (channels !== k) {
    throw new GlassboxArgumentError('groups', `the group sizes [${sizes.join(', ')}] add up to ${k}, but the probabilities have ${channels} channels`);
  }
  if (labels.rank !== probabilities.rank || labels.shape.some((d, i) => d !== probabilities.shape[i])) {
    throw new GlassboxArgumentError('labels', `expected the probabilities' shape [${probabilities.shape.join(', ')}] (one-hot per group), got [${labels.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const y = tf.reshape(tf.cast(labels, 'float32'), [-1, k]);
    const p = tf.reshape(probabilities, [-1, k]);
    const crossEntropy = tf.neg(tf.mul(y, tf.log(tf.maximum(p, epsilon))));
    const perGroupLoss = tf.split(crossEntropy, sizes, 1).map((part) => tf.sum(part));
    const perGroupCount = tf.split(y, sizes, 1).map((part) => tf.maximum(tf.sum(part), 1));
    return tf.addN(perGroupLoss.map((loss, g) => tf.div(loss, perGroupCount[g]))) as tf.Scalar;
  });
}

/**
 * {@link maskedGroupCrossEntropy} as a `(yTrue, yPred)` loss for `model.compile`, e.g.
 * `loss: { task: 'categoricalCrossentropy', concepts: conceptLoss(bottleneck) }`.
 */
export function conceptLoss(groups: ConceptGroupsLike, options: ConceptLossOptions = {}): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar {
  groupSizes(groups);
  return (yTrue, yPred) => maskedGroupCrossEntropy(yTrue, yPred, groups, options);
}

/**
 * Turns per-group index maps `labels` [..., G] (the concept index within group g, or −1 for no label;
 * any value outside [0, size_g) counts as no label) into the one-hot label/mask format [..., K].
 */
export function conceptMasksFromLabels(labels: tf.Tensor, groups: ConceptGroupsLike): tf.Tensor {
  const sizes = groupSizes(groups);
  if (!(labels instanceof tf.Tensor) || labels.rank < 2 || labels.shape[labels.rank - 1] !== sizes.length) {
    throw new GlassboxArgumentError('labels', `expected a tf.Tensor of shape [batch, ..., ${sizes.length}] (one index per group), got ${describeValue(labels)}`);
  }
  if (labels.dtype !== 'int32') {
    // One read-back: float labels must hold integers (a 1.5 would silently become concept 1).
    const fractional = tf.tidy(() => tf.any(tf.notEqual(labels, tf.round(labels))));
    const hasFraction = fractional.dataSync()[0] === 1;
    fractional.dispose();
    if (hasFraction) throw new GlassboxArgumentError('labels', 'expected integer concept indices (or −1 for no label), got fractional values');
  }
  return tf.tidy(() => {
    const perGroup = tf.unstack(tf.cast(labels, 'int32'), labels.rank - 1);
    // tf.oneHot refuses depth 1: a one-concept group is "index = 0".
    const oneHot = (index: tf.Tensor, size: number) => (size === 1 ? tf.expandDims(tf.cast(tf.equal(index, 0), 'int32'), -1) : tf.oneHot(index, size));
    return tf.cast(tf.concat(perGroup.map((index, g) => oneHot(index, sizes[g])), -1), 'float32');
  });
}
