/**
 * Layer-wise Relevance Propagation (Bach et al. 2015; Montavon et al. 2019) on tfjs LayersModels and
 * converted GraphModels, with Zennit's rules, composites and canonizers (Anders et al. 2021).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { withBackendGapFixesSync } from '../../core/backend-gaps';
import { forEachChunk } from '../../core/chunks';
import { renamedOption } from '../../core/deprecation';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { inputGradient } from '../../core/input-gradient';
import type { MemoryProbe } from '../../core/memory-budget';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { exampleRange, prepareCall } from '../../core/prepare';
import { withRowContext } from '../../core/row-context';
import type { TargetSelector } from '../../core/target';
import { assertOneOf } from '../../core/validate';
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
  layer?: string;
  /** @deprecated Renamed `layer` (as in the CAMs and the layer attributions); removed in the next release. */
  relevanceAt?: string;
  /**
   * Seed of the call's row context (see `withRowContext`): stochastic layers such as `SpatialShuffle`
   * draw one permutation per example from it and use it in every forward pass of the call. Default: a
   * fresh random seed per call.
   */
  seed?: number;
}

const LRP_KEYS = optionKeys<LrpOptions>()(
  'composite',
  'epsilon',
  'gamma',
  'low',
  'high',
  'canonize',
  'layerRules',
  'startFrom',
  'layer',
  'relevanceAt',
  'seed',
  ...COMMON_OPTION_KEYS,
);

/**
 * Layer-wise Relevance Propagation. Relevance starts at the explained output and flows back layer by
 * layer, each layer applying the rule its composite gives it; the result is shaped like `x` (or like
 * the output of `options.layer`). A final softmax or sigmoid is left out: LRP explains the score
 * before it (the logit), as Zennit and Captum do, so relevance keeps the sign of each contribution.
 *
 * `model` is a tfjs LayersModel or a converted GraphModel (`tf.loadGraphModel`), whose graph is
 * compiled op by op (see `registerLrpOp` for ops LRP does not know). For a model with several inputs,
 * pass one tensor per input (`x: tf.Tensor[]`, batch first) and get one relevance tensor per input
 * (with `layer`, an array holding that one tensor).
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
  // The engine validates the options, the inputs (one per model input) and the target, and snapshots x.
  const call = await prepareCall(model as never, x, options, { keys: LRP_KEYS, gradients: false });
  try {
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
    const layer = renamedOption<string>(options, 'layer', 'relevanceAt');
    if (layer !== undefined && typeof layer !== 'string') {
      throw new GlassboxArgumentError('options.layer', `expected a layer name, got ${describeValue(layer)}`);
    }
    const program = graphModel
      ? await compileGraphModel(model, { composite, canonize: canonizers })
      : compileProgram(model as tfl.LayersModel, { composite, canonize: canonizers });
    try {
      const slots = layer === undefined ? program.inputs : [layerSlot(program, layer, 'options.layer')];
      // The program's merged and modified parameters are constants too: their transposed filters are cached per call.
      const scope = { ...call.evaluator.scope, constants: [...(call.evaluator.scope?.constants ?? []), ...program.constants] };
      const parts: tf.Tensor[][] = slots.map(() => []);
      try {
        // Each chunk is one synchronous scope: the backend-gap fixes and the row context exist only while it runs.
        await forEachChunk({ ...call.plan, total: call.numExamples }, (chunk) => {
          const examples = exampleRange(chunk.start, chunk.count);
          const relevance = withRowContext({ seed: call.seed, examples }, () =>
            withBackendGapFixesSync(
              () =>
                tf.tidy(() => {
                  const rows = call.inputs.tensors.map((t) => tf.slice(t, chunk.start, chunk.count));
                  return relevanceOfRows(program, rows, call.target, examples, startFrom, slots, chunk.memory);
                }),
              scope,
            ),
          );
          relevance.forEach((r, k) => parts[k].push(r));
        });
        const results = parts.map((list) => (list.length === 1 ? list.pop()! : tf.concat(list, 0)));
        return call.inputs.single ? results[0] : results;
      } finally {
        parts.forEach((list) => list.forEach((t) => t.dispose()));
      }
    } finally {
      program.dispose();
    }
  } finally {
    call.dispose();
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
  memory: MemoryProbe,
): tf.Tensor[] {
  const values = forwardValues(program, inputs);
  // Every slot's value is alive now; the rules' branches add a few times that during propagation.
  memory.sample(3);
  const output = values[program.output];
  // The target's gradient at the output: onehot(c) for an index target.
  const seed = inputGradient((o) => tf.sum(target.select(o, examples)), output);
  const outputRelevance = startFrom === 'score' ? tf.mul(seed, output) : seed;
  return propagateRelevance(program, values, outputRelevance, slots);
}
