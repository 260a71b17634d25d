/**
 * Layer-wise Relevance Propagation (Bach et al. 2015; Montavon et al. 2019) on tfjs LayersModels and
 * converted GraphModels, with Zennit's rules, composites and canonizers (Anders et al. 2021).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { withBackendGapFixes } from '../../core/backend-gaps';
import { batchSizeOption, forEachChunk } from '../../core/chunks';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { inputGradient } from '../../core/input-gradient';
import type { CommonOptions } from '../../core/options';
import { exampleRange } from '../../core/prepare';
import { withRowContext } from '../../core/row-context';
import { seedOption } from '../../core/seeded-random';
import { resolveTarget, type TargetSelector } from '../../core/target';
import { assertBatchedTensor, assertFinite, assertOneOf } from '../../core/validate';
import { resolveCanonizers, type Canonizer } from './canonizers';
import { resolveComposite, withLayerRules, type Composite, type CompositeEntry, type CompositeName, type LayerRules } from './composites';
import { compileProgram, layerSlot } from './graph';
import { compileGraphModel } from './graph-model';
import { isGraphModel, type GraphModelLike } from './graph-model-source';
import type { Program } from './program';
import { forwardValues, propagateRelevance } from './propagate';
import type { Bound } from './rules';

/** What `lrp` explains: a tfjs LayersModel (Sequential or functional) or a converted `tf.GraphModel`. */
export type LrpModel = tfl.LayersModel | GraphModelLike;

/** Options of {@link lrp}. */
export interface LrpOptions extends CommonOptions {
  /**
   * A named composite (built in, see `COMPOSITE_NAMES`, or given to `registerComposite`) or a
   * {@link Composite} from `composites.*`. Default `'epsilon-plus-flat'`.
   */
  composite?: CompositeName | (string & Record<never, never>) | Composite;
  /** ε of the Epsilon rule of a named composite (default 1e−6; 0 gives LRP-0). */
  epsilon?: number;
  /** γ of `'epsilon-gamma-box'` (default 0.25). */
  gamma?: number;
  /** Lowest input value for `'epsilon-gamma-box'` (number, one per channel, or tensor). */
  low?: Bound;
  /** Highest input value for `'epsilon-gamma-box'`. */
  high?: Bound;
  /**
   * Canonizers, passes that bring the network into the form the rules are meant for (see
   * `canonizers`): `true` (default) applies `'merge-batch-norm'`, `'gates'` and `'attention'`;
   * `false` none; or a list of names (built in or given to `registerCanonizer`) and canonizer objects.
   * The model and its weights are never changed.
   */
  canonize?: boolean | readonly (string | Canonizer)[];
  /** Rules by layer name or class name, or composite entries, taking precedence over the composite's. */
  layerRules?: LayerRules | readonly CompositeEntry[];
  /**
   * Where relevance starts: `'score'` (default, Captum's convention) `R = onehot(c) ⊙ f(x)`, so the
   * relevances sum to about `f_c(x)`; `'one'` (Zennit's default) `R = onehot(c)`. For a score-function
   * target, `onehot(c)` is the score's gradient with respect to the output.
   */
  startFrom?: 'score' | 'one';
  /**
   * Return the relevance at the output of this layer (or graph node, by name) instead of at the input:
   * shaped like that output, `[N, ...]`. The layer must be called once in the model.
   */
  relevanceAt?: string;
  /**
   * Seed of the call's row context (see `withRowContext`): stochastic layers such as `SpatialShuffle`
   * draw one permutation per example from it and use it in every forward pass of the call. Default: a
   * fresh random seed per call.
   */
  seed?: number;
}

/**
 * Layer-wise Relevance Propagation. Relevance starts at the explained output and flows back layer by
 * layer, each layer applying the rule its composite gives it; the result is shaped like `x` (or like
 * the output of `options.relevanceAt`). A final softmax or sigmoid is left out: LRP explains the score
 * before it (the logit), as Zennit and Captum do, so relevance keeps the sign of each contribution.
 *
 * `model` is a tfjs LayersModel or a converted GraphModel (`tf.loadGraphModel`), whose graph is
 * compiled op by op (see `registerLrpOp` for ops LRP does not know). For a model with several inputs,
 * pass one tensor per input (`x: tf.Tensor[]`, batch first) and get one relevance tensor per input
 * (with `relevanceAt`, an array holding that one tensor).
 *
 * The rules run as plain tfjs ops, batched, on the active backend; the model and its weights are not
 * changed (BatchNorm merging works on copies).
 * @example
 * const relevance = await lrp(model, images, { target: 3, composite: 'epsilon-plus-flat' });
 * const box = await lrp(model, images, { target: 3, composite: 'epsilon-gamma-box', low: 0, high: 1 });
 * const [rA, rB] = await lrp(twoInputModel, [a, b], { target: 0 });
 */
export function lrp(model: LrpModel, x: tf.Tensor, options?: LrpOptions): Promise<tf.Tensor>;
export function lrp(model: LrpModel, x: readonly tf.Tensor[], options?: LrpOptions): Promise<tf.Tensor[]>;
export async function lrp(model: LrpModel, x: tf.Tensor | readonly tf.Tensor[], options: LrpOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const graphModel = isGraphModel(model);
  if (!(model instanceof tfl.LayersModel) && !graphModel) {
    throw new GlassboxArgumentError('model', `lrp needs a tf.LayersModel (Sequential or functional) or a tf.GraphModel, got ${describeValue(model)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new GlassboxArgumentError('options', `expected an object, got ${describeValue(options)}`);
  }
  const composite = withLayerRules(
    resolveComposite(options.composite ?? 'epsilon-plus-flat', {
      epsilon: options.epsilon,
      gamma: options.gamma,
      low: options.low,
      high: options.high,
    }),
    options.layerRules,
  );
  const canonizers = resolveCanonizers(options.canonize);
  const startFrom = options.startFrom ?? 'score';
  assertOneOf(startFrom, 'options.startFrom', ['score', 'one'] as const);
  if (options.relevanceAt !== undefined && typeof options.relevanceAt !== 'string') {
    throw new GlassboxArgumentError('options.relevanceAt', `expected a layer name, got ${describeValue(options.relevanceAt)}`);
  }
  const seed = seedOption(options.seed);
  const several = Array.isArray(x);
  const inputs = (several ? x : [x]) as tf.Tensor[];

  const program = graphModel ? await compileGraphModel(model, { composite, canonize: canonizers }) : compileProgram(model as tfl.LayersModel, { composite, canonize: canonizers });
  try {
    const slots = options.relevanceAt === undefined ? program.inputs : [layerSlot(program, options.relevanceAt, 'options.relevanceAt')];
    const call = await prepareInputs(inputs, several, modelInputShapes(model, graphModel), options);
    try {
      const results = await withBackendGapFixes(async () => {
        const parts: tf.Tensor[][] = slots.map(() => []);
        try {
          await forEachChunk({ ...call.plan, total: call.numExamples }, (start, count) => {
            const examples = exampleRange(start, count);
            const relevance = withRowContext({ seed, examples }, () =>
              tf.tidy(() => relevanceOfRows(program, call.inputs.map((t) => tf.slice(t, start, count)), call.target, examples, startFrom, slots)),
            );
            relevance.forEach((r, k) => parts[k].push(r));
          });
          return parts.map((list) => (list.length === 1 ? list.pop()! : tf.concat(list, 0)));
        } finally {
          parts.forEach((list) => list.forEach((t) => t.dispose()));
        }
      });
      return several ? results : results[0];
    } finally {
      call.dispose();
    }
  } finally {
    program.dispose();
  }
}

/** Relevance at each of `slots` for a chunk of examples (inside `tf.tidy`). */
function relevanceOfRows(
  program: Program,
  inputs: tf.Tensor[],
  target: TargetSelector,
  examples: Int32Array,
  startFrom: 'score' | 'one',
  slots: readonly number[],
): tf.Tensor[] {
  const values = forwardValues(program, inputs);
  const output = values[program.output];
  // The target's gradient at the output: onehot(c) for an index target.
  const seed = inputGradient((o) => tf.sum(target.select(o, examples)), output);
  const outputRelevance = startFrom === 'score' ? tf.mul(seed, output) : seed;
  return propagateRelevance(program, values, outputRelevance, slots);
}

/** The declared input shapes of the model (`null` for any size). */
function modelInputShapes(model: LrpModel, graphModel: boolean): (number | null)[][] {
  if (!graphModel) return (model as tfl.LayersModel).inputs.map((input) => input.shape);
  return (model as GraphModelLike).inputs.map((input) => (input.shape ?? []).map((d) => (d === -1 || d === null ? null : d)));
}

interface PreparedInputs {
  inputs: tf.Tensor[];
  target: TargetSelector;
  numExamples: number;
  plan: { batchSize: number; onProgress?: CommonOptions['onProgress']; signal?: AbortSignal };
  dispose(): void;
}

/**
 * Validates the inputs (one batched, finite tensor per model input, all with the same batch size and
 * the model's declared shapes) and the common options; returns float32 copies.
 */
async function prepareInputs(inputs: tf.Tensor[], several: boolean, shapes: (number | null)[][], options: LrpOptions): Promise<PreparedInputs> {
  const name = (i: number): string => (several ? `x[${i}]` : 'x');
  if (inputs.length !== shapes.length) {
    throw new GlassboxArgumentError('x', `the model has ${shapes.length} inputs; expected ${shapes.length === 1 ? 'one tensor' : `an array of ${shapes.length} tensors`}, got ${several ? `${inputs.length} tensors` : 'one tensor'}`);
  }
  inputs.forEach((t, i) => assertBatchedTensor(t, name(i)));
  const numExamples = inputs[0].shape[0];
  inputs.forEach((t, i) => {
    if (t.shape[0] !== numExamples) throw new GlassboxArgumentError(name(i), `expected ${numExamples} examples (like x[0]), got ${t.shape[0]}`);
    const expected = shapes[i];
    const fits = expected.length === 0 || (expected.length === t.rank && expected.every((d, k) => k === 0 || d === null || d === t.shape[k]));
    if (!fits) {
      const shown = expected.map((d) => (d === null ? 'any' : String(d))).join(', ');
      throw new GlassboxArgumentError(name(i), `expected shape [${shown}] (the model's input), got [${t.shape.join(', ')}]`);
    }
  });
  const batchSize = batchSizeOption(options.batchSize);
  for (let i = 0; i < inputs.length; i++) await assertFinite(inputs[i], name(i));
  const target = await resolveTarget(options.target, numExamples);
  const cast = inputs.map((t) => tf.cast(t, 'float32'));
  return {
    inputs: cast,
    target,
    numExamples,
    plan: { batchSize, onProgress: options.onProgress, signal: options.signal },
    dispose: () => cast.forEach((t) => t.dispose()),
  };
}
