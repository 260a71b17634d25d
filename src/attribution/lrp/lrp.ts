/**
 * Layer-wise Relevance Propagation (Bach et al. 2015; Montavon et al. 2019) on tfjs LayersModels, with
 * Zennit's rules, composites and BatchNorm canonizer (Anders et al. 2021).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { withBackendGapFixesSync } from '../../core/backend-gaps';
import { forEachChunk } from '../../core/chunks';
import { inputGradient } from '../../core/input-gradient';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { exampleRange, prepareCall } from '../../core/prepare';
import { withRowContext } from '../../core/row-context';
import type { MemoryProbe } from '../../core/memory-budget';
import type { TargetSelector } from '../../core/target';
import { assertOneOf } from '../../core/validate';
import { resolveComposite, withLayerRules, type Composite, type CompositeName, type LayerRules } from './composites';
import { compileProgram, layerSlot, type Program } from './graph';
import { forwardValues, propagateRelevance } from './propagate';
import type { Bound } from './rules';

/** Options of {@link lrp}. */
export interface LrpOptions extends CommonOptions {
  /** A named composite or a {@link Composite} from `composites.*`. Default `'epsilon-plus-flat'`. */
  composite?: CompositeName | Composite;
  /** ε of the Epsilon rule of a named composite (default 1e−6; 0 gives LRP-0). */
  epsilon?: number;
  /** γ of `'epsilon-gamma-box'` (default 0.25). */
  gamma?: number;
  /** Lowest input value for `'epsilon-gamma-box'` (number, one per channel, or tensor). */
  low?: Bound;
  /** Highest input value for `'epsilon-gamma-box'`. */
  high?: Bound;
  /** Merge each BatchNormalization into the linear layer before it, for the attribution only. Default true. */
  canonize?: boolean;
  /** Rules by layer name or class name, taking precedence over the composite's. */
  layerRules?: LayerRules;
  /**
   * Where relevance starts: `'score'` (default, Captum's convention) `R = onehot(c) ⊙ f(x)`, so the
   * relevances sum to about `f_c(x)`; `'one'` (Zennit's default) `R = onehot(c)`. For a score-function
   * target, `onehot(c)` is the score's gradient with respect to the output.
   */
  startFrom?: 'score' | 'one';
  /**
   * Return the relevance at the output of this layer (by name) instead of at the input: shaped like
   * that output, `[N, ...]`. The layer must be called once in the model.
   */
  relevanceAt?: string;
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
  'relevanceAt',
  ...COMMON_OPTION_KEYS,
);

/**
 * Layer-wise Relevance Propagation. Relevance starts at the explained output and flows back layer by
 * layer, each layer applying the rule its composite gives it; the result is shaped like `x` (or like
 * the output of `options.relevanceAt`). A final softmax is left out: LRP explains the pre-softmax
 * score (the logit), as Zennit and Captum do, because relevance through a softmax is not meaningful.
 *
 * The rules run as plain tfjs ops, batched, on the active backend; the model and its weights are not
 * changed (BatchNorm merging works on copies).
 * @example
 * const relevance = await lrp(model, images, { target: 3, composite: 'epsilon-plus-flat' });
 * const box = await lrp(model, images, { target: 3, composite: 'epsilon-gamma-box', low: 0, high: 1 });
 */
export async function lrp(model: tfl.LayersModel, x: tf.Tensor, options: LrpOptions = {}): Promise<tf.Tensor> {
  if (!(model instanceof tfl.LayersModel)) {
    throw new GlassboxArgumentError('model', `lrp needs a tf.LayersModel (Sequential or functional), got ${describeValue(model)}`);
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
  const canonize = options.canonize ?? true;
  if (typeof canonize !== 'boolean') throw new GlassboxArgumentError('options.canonize', `expected a boolean, got ${describeValue(canonize)}`);
  const startFrom = options.startFrom ?? 'score';
  assertOneOf(startFrom, 'options.startFrom', ['score', 'one'] as const);
  if (options.relevanceAt !== undefined && typeof options.relevanceAt !== 'string') {
    throw new GlassboxArgumentError('options.relevanceAt', `expected a layer name, got ${describeValue(options.relevanceAt)}`);
  }

  const program = compileProgram(model, { composite, canonize });
  try {
    const slot = options.relevanceAt === undefined ? program.input : layerSlot(program, options.relevanceAt, 'options.relevanceAt');
    const call = await prepareCall(model, x, options, { keys: LRP_KEYS, gradients: false });
    const parts: tf.Tensor[] = [];
    try {
      const input = call.single('lrp');
      // Each chunk is one synchronous scope: the backend-gap fixes and the row context exist only while it runs.
      await forEachChunk({ ...call.plan, total: call.numExamples }, (chunk) => {
        const examples = exampleRange(chunk.start, chunk.count);
        parts.push(
          withRowContext({ seed: call.seed, examples }, () =>
            withBackendGapFixesSync(() =>
              tf.tidy(() => relevanceOfRows(program, tf.slice(input, chunk.start, chunk.count), call.target, examples, startFrom, slot, chunk.memory)),
            ),
          ),
        );
      });
      return parts.length === 1 ? parts.pop()! : tf.concat(parts, 0);
    } finally {
      parts.forEach((t) => t.dispose());
      call.dispose();
    }
  } finally {
    program.dispose();
  }
}

/** Relevance at `slot` for a chunk of examples (inside `tf.tidy`). */
function relevanceOfRows(
  program: Program,
  inputs: tf.Tensor,
  target: TargetSelector,
  examples: Int32Array,
  startFrom: 'score' | 'one',
  slot: number,
  memory: MemoryProbe,
): tf.Tensor {
  const values = forwardValues(program, inputs);
  // Every slot's value is alive now; the rules' branches add a few times that during propagation.
  memory.sample(3);
  const output = values[program.output];
  // The target's gradient at the output: onehot(c) for an index target.
  const seed = inputGradient((o) => tf.sum(target.select(o, examples)), output);
  const outputRelevance = startFrom === 'score' ? tf.mul(seed, output) : seed;
  return propagateRelevance(program, values, outputRelevance, slot);
}
