/**
 * The input batch of a call: `x` as one tensor or one tensor per model input, validated against the
 * model and snapshotted (float32 copies that the call owns, so disposing or re-assigning the caller's
 * tensors while the call awaits changes nothing), and the per-input tensors options such as baselines.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from './errors';
import type { ModelInput, ResolvedModel } from './model';
import { assertAllFinite, assertBatchedTensor } from './validate';

/** The validated inputs of a call. */
export interface InputBatch {
  /** float32 snapshots, one per model input, `[numExamples, ...featureShapes[i]]`. */
  readonly tensors: tf.Tensor[];
  /** `x` was one tensor (results are one tensor) rather than an array (results are an array). */
  readonly single: boolean;
  readonly numExamples: number;
  /** Shape of one example of each input. */
  readonly featureShapes: number[][];
  dispose(): void;
}

/** The argument name of input `i` in messages: `x`, or `x[i]` for several inputs. */
export function inputArgument(single: boolean, i: number, base = 'x'): string {
  return single ? base : `${base}[${i}]`;
}

/**
 * Validates `x` (a batched tensor, or a non-empty array of them with one batch size) against `model`
 * (number of inputs, declared shapes) and checks every value is finite (one read-back for all inputs).
 * Returns float32 snapshots the caller disposes.
 */
export async function prepareInputs(x: unknown, model: ResolvedModel, options: { minRank?: number } = {}): Promise<InputBatch> {
  const single = !Array.isArray(x);
  const list = (single ? [x] : x) as unknown[];
  if (list.length === 0) throw new GlassboxArgumentError('x', 'expected a tensor or a non-empty array of tensors (one per model input), got []');
  const expected = model.inputs?.length;
  if (expected !== undefined && expected !== list.length) {
    throw new GlassboxArgumentError(
      'x',
      `the model has ${expected} input${expected === 1 ? '' : 's'} (${model.inputs!.map((i) => i.name).join(', ')}); ` +
        `got ${single ? 'one tensor' : `an array of ${list.length}`}${expected > 1 && single ? '; pass an array with one tensor per input' : ''}`,
    );
  }
  list.forEach((t, i) => assertBatchedTensor(t, inputArgument(single, i), options.minRank ?? 2));
  const tensors = list as tf.Tensor[];
  const numExamples = tensors[0].shape[0];
  tensors.forEach((t, i) => {
    if (t.shape[0] !== numExamples) {
      throw new GlassboxArgumentError(inputArgument(single, i), `expected the batch size of x[0] (${numExamples}), got ${t.shape[0]}`);
    }
    const declared = model.inputs?.[i];
    if (declared) assertFitsInput(t, declared, inputArgument(single, i));
  });
  await assertAllFinite(tensors, (i) => inputArgument(single, i));
  const snapshots = tensors.map((t) => tf.cast(t, 'float32'));
  return {
    tensors: snapshots,
    single,
    numExamples,
    featureShapes: tensors.map((t) => t.shape.slice(1)),
    dispose: () => snapshots.forEach((t) => t.dispose()),
  };
}

function assertFitsInput(x: tf.Tensor, input: ModelInput, argument: string): void {
  if (input.shape === null) return;
  const fits = input.shape.length === x.rank && input.shape.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!fits) {
    const shown = input.shape.map((d) => (d === null ? 'any' : String(d))).join(', ');
    throw new GlassboxArgumentError(argument, `expected shape [${shown}] (the model's input ${JSON.stringify(input.name)}), got [${x.shape.join(', ')}]`);
  }
}

/** A baseline (or similar reference input): a number, or a tensor broadcastable as {@link resolveReference} says. */
export type Reference = number | tf.Tensor;

/**
 * Resolves a reference input such as a baseline for every model input: a number, a tensor shaped like
 * the input, like one example with a batch axis of 1 (`[1, ...features]`), or one value per channel
 * (`[C]`, the input's last axis); for several inputs, one such value per input in an array (a single
 * number applies to all). Returns float32 tensors shaped like the inputs (caller disposes). Disposed,
 * non-finite or misshapen tensors are errors naming `argument`.
 */
export async function resolveReference(value: unknown, batch: InputBatch, argument: string, fallback = 0): Promise<tf.Tensor[]> {
  const perInput: unknown[] =
    value === undefined || typeof value === 'number'
      ? batch.tensors.map(() => value ?? fallback)
      : batch.single
        ? [value]
        : Array.isArray(value)
          ? value
          : [];
  if (perInput.length !== batch.tensors.length) {
    throw new GlassboxArgumentError(argument, `expected a number, or an array with one value per model input (${batch.tensors.length}), got ${describeValue(value)}`);
  }
  const names = perInput.map((_, i) => inputArgument(batch.single, i, argument));
  const tensors = perInput.filter((v): v is tf.Tensor => v instanceof tf.Tensor);
  perInput.forEach((v, i) => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new GlassboxArgumentError(names[i], `expected a finite number, got ${describeValue(v)}`);
      return;
    }
    if (!(v instanceof tf.Tensor)) throw new GlassboxArgumentError(names[i], `expected a number or a tf.Tensor, got ${describeValue(v)}`);
    if (v.isDisposed) throw new GlassboxArgumentError(names[i], 'the tensor has already been disposed');
    assertReferenceShape(v, batch.tensors[i], names[i]);
  });
  await assertAllFinite(tensors, (k) => names[perInput.indexOf(tensors[k])]);
  return tf.tidy(() =>
    perInput.map((v, i) => {
      const input = batch.tensors[i];
      return typeof v === 'number' ? tf.fill(input.shape, v, 'float32') : tf.add(tf.zerosLike(input), tf.cast(v as tf.Tensor, 'float32'));
    }),
  );
}

function assertReferenceShape(reference: tf.Tensor, input: tf.Tensor, argument: string): void {
  const features = input.shape.slice(1);
  const channels = features[features.length - 1];
  const likeInput = reference.rank === input.rank && reference.shape.slice(1).every((d, i) => d === features[i]);
  const ok = (likeInput && (reference.shape[0] === input.shape[0] || reference.shape[0] === 1)) || (reference.rank === 1 && reference.shape[0] === channels);
  if (!ok) {
    throw new GlassboxArgumentError(
      argument,
      `expected shape [${input.shape.join(', ')}] (like the input), [1, ${features.join(', ')}] (one example) or [${channels}] ` +
        `(one value per channel), got [${reference.shape.join(', ')}]`,
    );
  }
}
