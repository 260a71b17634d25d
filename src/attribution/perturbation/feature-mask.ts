/**
 * Feature masks: which input elements form one interpretable feature (a group) for the perturbation
 * methods (feature ablation, permutation, Shapley value sampling, KernelSHAP, LIME), with Captum's
 * conventions:
 * - a mask holds integer ids shaped like one example of its input (`[...features]`), optionally with a
 *   batch axis (`[1, ...features]` for all examples, `[N, ...features]` for one mask per example); any
 *   feature axis may be 1 to broadcast (`[H, W, 1]` groups the channels of a pixel);
 * - elements with the same id form one group and get the group's attribution;
 * - ids are shared across the inputs of a model with several inputs: the same id in two inputs is one
 *   group, perturbed in both at once;
 * - without a mask every element of every input is its own group.
 *
 * Ids are non-negative integers; they need not be contiguous or start at 0: the groups of an example are
 * the distinct ids that occur in it, in ascending order (its "local" groups `0 .. G_e − 1`). Captum's
 * Lime and KernelShap instead make `max id + 1` interpretable features, so an id that never occurs is a
 * dummy feature there that still takes part in the sampling.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { inputArgument, type InputBatch } from '../../core/inputs';

/** Integer ids as (nested) arrays, e.g. `[[0, 0, 1], [2, 2, 1]]`. */
export type NestedIds = readonly (number | NestedIds)[];

/** The feature mask of one input: an integer tensor, or ids as (nested) arrays. */
export type FeatureIds = tf.Tensor | NestedIds;

/** `featureMask` option: one mask (a model with one input) or one per model input. */
export type FeatureMask = FeatureIds | readonly FeatureIds[];

/**
 * The feature groups of a call's examples, held in JavaScript: the masks are read once, and the
 * perturbed inputs are written on the CPU and uploaded once per chunk (as RISE's masks are), which is far
 * cheaper than gathering or broadcasting copies on the cpu and wasm backends.
 */
export interface FeatureGroups {
  /** The largest number of groups of one example: the width of coalition rows. */
  readonly width: number;
  /** Every example has the same groups (no mask had a batch axis of N > 1). */
  readonly shared: boolean;
  /** Number of groups `G_e` of example `e`. */
  countOf(example: number): number;
  /** The local group of every element of input `input` of example `example` (row-major, feature axes only). */
  elementGroups(input: number, example: number): Int32Array;
  /** The elements of each local group of input `input` of example `example` (flat indices, ascending). */
  groupElements(input: number, example: number): Int32Array[];
  /** Per-group values (row e at `e · width`) spread over the elements: one tensor per input, shaped like it. */
  expand(values: ArrayLike<number>): tf.Tensor[];
}

/** One input's mask, read: ids and the shape with a batch axis (1 or N) first. */
interface ReadMask {
  ids: Int32Array;
  shape: number[];
}

/**
 * Reads and validates `mask` (the `featureMask` option) for the inputs of a call and groups the
 * elements. `argument` names the option in errors.
 */
export async function featureGroups(mask: unknown, inputs: InputBatch, argument = 'options.featureMask'): Promise<FeatureGroups> {
  const read = mask === undefined ? defaultMasks(inputs) : await readMasks(mask, inputs, argument);
  return groupsOf(read, inputs);
}

/** Every element its own group, ids running on across the inputs (Captum's default mask). */
function defaultMasks(inputs: InputBatch): ReadMask[] {
  let offset = 0;
  return inputs.featureShapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const ids = Int32Array.from({ length: size }, (_, k) => offset + k);
    offset += size;
    return { ids, shape: [1, ...shape] };
  });
}

async function readMasks(mask: unknown, inputs: InputBatch, argument: string): Promise<ReadMask[]> {
  const count = inputs.tensors.length;
  const perInput: unknown[] = inputs.single ? [mask] : Array.isArray(mask) && mask.length === count ? mask : [];
  if (perInput.length !== count) {
    throw new GlassboxArgumentError(argument, `expected an array with one mask per model input (${count}), got ${describeValue(mask)}`);
  }
  const read: ReadMask[] = [];
  for (const [i, m] of perInput.entries()) read.push(await readMask(m, inputs, i, inputArgument(inputs.single, i, argument)));
  return read;
}

async function readMask(mask: unknown, inputs: InputBatch, i: number, argument: string): Promise<ReadMask> {
  let values: ArrayLike<number>;
  let shape: number[];
  if (mask instanceof tf.Tensor) {
    if (mask.isDisposed) throw new GlassboxArgumentError(argument, 'the tensor has already been disposed');
    values = await mask.data();
    shape = mask.shape;
  } else if (Array.isArray(mask)) {
    ({ values, shape } = flattenNested(mask, argument));
  } else {
    throw new GlassboxArgumentError(argument, `expected integer ids as a tf.Tensor or a (nested) array, got ${describeValue(mask)}`);
  }
  const features = inputs.featureShapes[i];
  const n = inputs.numExamples;
  const withBatch = shape.length === features.length ? [1, ...shape] : shape;
  const fits =
    withBatch.length === features.length + 1 &&
    (withBatch[0] === 1 || withBatch[0] === n) &&
    features.every((d, k) => withBatch[k + 1] === d || withBatch[k + 1] === 1);
  if (!fits) {
    throw new GlassboxArgumentError(
      argument,
      `expected ids shaped like one example [${features.join(', ')}] (an axis may be 1 to broadcast), optionally with a ` +
        `batch axis of 1 or ${n} first, got shape [${shape.join(', ')}]`,
    );
  }
  const ids = new Int32Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) {
      throw new GlassboxArgumentError(argument, `expected non-negative integer ids, got ${describeValue(v)} at flat index ${k}`);
    }
    ids[k] = v;
  }
  return { ids, shape: withBatch };
}

/** Shape and row-major values of a rectangular nested array of numbers. */
function flattenNested(mask: readonly unknown[], argument: string): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: unknown = mask; Array.isArray(level); level = level[0]) shape.push(level.length);
  const values: number[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') throw new GlassboxArgumentError(argument, `expected numbers in a rectangular nested array, got ${describeValue(node)}`);
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new GlassboxArgumentError(argument, `expected a rectangular nested array of shape [${shape.join(', ')}], got a ragged one`);
    }
    node.forEach((child) => walk(child, depth + 1));
  };
  walk(mask, 0);
  return { values, shape };
}

/** Groups the read masks: per example the sorted distinct ids, and each element's local group index. */
function groupsOf(masks: ReadMask[], inputs: InputBatch): FeatureGroups {
  const n = inputs.numExamples;
  const shared = masks.every((m) => m.shape[0] === 1);
  const examples = shared ? 1 : n;
  // The element block of example e in a mask with a batch axis of 1 or N.
  const block = (m: ReadMask, e: number): Int32Array => {
    const size = m.ids.length / m.shape[0];
    return m.shape[0] === 1 ? m.ids : m.ids.subarray(e * size, (e + 1) * size);
  };
  const idLists: number[][] = [];
  for (let e = 0; e < examples; e++) {
    const ids = new Set<number>();
    for (const m of masks) for (const id of block(m, e)) ids.add(id);
    idLists.push([...ids].sort((a, b) => a - b));
  }
  const width = Math.max(...idLists.map((l) => l.length));
  // Local group indices per input, `examples` blocks of K_i (the mask's feature size).
  const sizes = masks.map((m) => m.ids.length / m.shape[0]);
  const local = masks.map((m, i) => {
    const out = new Int32Array(examples * sizes[i]);
    for (let e = 0; e < examples; e++) {
      const position = new Map(idLists[e].map((id, g) => [id, g]));
      const ids = block(m, e);
      for (let k = 0; k < sizes[i]; k++) out[e * sizes[i] + k] = position.get(ids[k])!;
    }
    return out;
  });
  const maskShapes = masks.map((m) => m.shape.slice(1));
  const elementGroupCache = new Map<number, Int32Array>();
  const groupElementCache = new Map<number, Int32Array[]>();
  const localOf = (i: number, e: number) => local[i].subarray((shared ? 0 : e) * sizes[i], ((shared ? 0 : e) + 1) * sizes[i]);
  const elementGroups = (i: number, e: number): Int32Array => {
    const key = i * examples + (shared ? 0 : e);
    let groups = elementGroupCache.get(key);
    if (groups === undefined) {
      const owners = localOf(i, e);
      groups = broadcastIndex(inputs.featureShapes[i], maskShapes[i]);
      for (let k = 0; k < groups.length; k++) groups[k] = owners[groups[k]];
      elementGroupCache.set(key, groups);
    }
    return groups;
  };
  return {
    width,
    shared,
    countOf: (e) => idLists[shared ? 0 : e].length,
    elementGroups,
    groupElements: (i, e) => {
      const key = i * examples + (shared ? 0 : e);
      let lists = groupElementCache.get(key);
      if (lists === undefined) {
        const owners = elementGroups(i, e);
        const counts = new Int32Array(width);
        for (let k = 0; k < owners.length; k++) counts[owners[k]]++;
        const built = Array.from(counts, (c) => new Int32Array(c));
        counts.fill(0);
        for (let k = 0; k < owners.length; k++) built[owners[k]][counts[owners[k]]++] = k;
        lists = built;
        groupElementCache.set(key, lists);
      }
      return lists;
    },
    expand: (values) =>
      tf.tidy(() =>
        masks.map((_, i) => {
          const size = sizes[i];
          const out = new Float32Array(n * size);
          for (let e = 0; e < n; e++) {
            const groups = localOf(i, e);
            for (let k = 0; k < size; k++) out[e * size + k] = values[e * width + groups[k]];
          }
          return tf.broadcastTo(tf.tensor(out, [n, ...maskShapes[i]]), inputs.tensors[i].shape);
        }),
      ),
  };
}

/** For every element of `shape` (row-major), the flat index of the element of the broadcast `from` it reads. */
function broadcastIndex(shape: number[], from: number[]): Int32Array {
  const strides = new Array<number>(from.length);
  for (let d = from.length - 1, stride = 1; d >= 0; d--) {
    strides[d] = from[d] === 1 ? 0 : stride;
    stride *= from[d];
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(size);
  for (let k = 0; k < size; k++) {
    let rest = k;
    let index = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      index += (rest % shape[d]) * strides[d];
      rest = Math.floor(rest / shape[d]);
    }
    out[k] = index;
  }
  return out;
}
