/**
 * Canonizers (Zennit; Motzkus et al. 2022 on why LRP needs them): passes over the compiled LRP program
 * that bring a network into the form the rules are meant for, without changing its output. They work
 * on the program only; the user's model and its weights are never touched.
 *
 * - `'merge-batch-norm'` (Zennit's MergeBatchNorm): an element-wise affine step (BatchNorm,
 *   FusedBatchNorm, a graph's Mul/Add by a constant, Rescaling) right after a linear step is folded into
 *   that step's parameters, `W' = W·scale` per output channel, `b' = b·scale + shift` (for BatchNorm
 *   `scale = γ/√(var + eps)`, `shift = β − μ·scale`), and disappears.
 * - `'gates'` (Arras et al. 2017; the squeeze-and-excitation canonizers built on Zennit): in a product,
 *   an input that a sigmoid (or hard sigmoid) produced is a gate: it gets no relevance, the other
 *   input takes all (`rules.signalTakeAll`).
 * - `'attention'` (Ali et al. 2022, CP-LRP): in a product, an input that a softmax produced (attention
 *   weights) is a gate, so relevance flows through the values only, not into the query/key path.
 *
 * Zennit's residual canonizers (ResNetCanonizer) replace `out += identity` by a module so that the Norm
 * rule can be attached to the sum; in the LRP program every sum (Add, Average, a graph's AddV2) is a
 * step of its own that every composite gives the Norm rule, so residual networks need no extra pass.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { AffineParameters, LinearParameters } from './layer-catalogue';
import type { ProgramDraft, ProgramStep } from './program';

/** A pass over the LRP program; see the module description. */
export interface Canonizer {
  /** The name `lrp`'s `canonize` option refers to it by. */
  readonly name: string;
  /** Rewrites `program` in place (merge steps, mark gates, ...). Must not change the program's output values. */
  apply(program: ProgramDraft): void;
}

/**
 * Merges every element-wise affine step (that `accept`s) into the linear step before it, when that
 * linear step's output feeds nothing else and the affine map is per output channel (scalar or along
 * the last axis).
 */
export function mergeAffineSteps(program: ProgramDraft, accept: (step: ProgramStep) => boolean = () => true): void {
  for (const step of [...program.steps]) {
    if (!step.affine || !accept(step)) continue;
    const linear = program.producer(step.inputs[0]);
    if (!linear || linear.parameters === null || program.uses(linear.output) !== 1) continue;
    const parameters = mergedParameters(linear, step.affine, program);
    if (parameters === null) continue;
    program.replace(linear, { ...linear, parameters });
    program.bypass(step, linear.output);
  }
}

const mergeBatchNorm: Canonizer = { name: 'merge-batch-norm', apply: (program) => mergeAffineSteps(program) };

/** `W' = W·scale` (per output channel), `b' = b·scale + shift`; `null` when the scale cannot be folded. */
function mergedParameters(linear: ProgramStep, affine: AffineParameters, program: ProgramDraft): LinearParameters | null {
  const { weight, bias } = linear.parameters!;
  const { scale, shift } = affine;
  if (scale !== null && scale.size > 1 && !linear.scaleOutputs) return null;
  const scalar = scale !== null && scale.size === 1 ? program.own(tf.reshape(scale, [])) : null;
  const merged: LinearParameters = {
    weight: tf.tidy(() => (scale === null ? tf.clone(weight) : scalar !== null ? tf.mul(weight, scalar) : linear.scaleOutputs!(weight, scale))),
    bias:
      bias === null && shift === null
        ? null
        : tf.tidy(() => {
            const scaledBias = bias === null ? null : scale === null ? bias : tf.mul(bias, scalar ?? scale);
            if (shift === null) return tf.clone(scaledBias!);
            return scaledBias === null ? tf.clone(shift) : tf.add(scaledBias, shift);
          }),
  };
  program.own(merged.weight);
  if (merged.bias !== null) program.own(merged.bias);
  return merged;
}

/** Activations whose output is a gate in a product: `'gates'` takes the sigmoids, `'attention'` the softmaxes. */
const SIGMOIDS = new Set(['sigmoid', 'hardSigmoid', 'hard_sigmoid', 'hardsigmoid']);
const SOFTMAXES = new Set(['softmax']);

/** The activation that produced `slot`, looking through reshapes and dropout. */
function producingActivation(program: ProgramDraft, slot: number): string | undefined {
  let step = program.producer(slot);
  while (step && step.kind === 'structural' && step.inputs.length === 1) step = program.producer(step.inputs[0]);
  return step?.activation;
}

/** A canonizer marking the product inputs produced by one of `activations` as gates. */
function gateMarker(name: string, activations: ReadonlySet<string>): Canonizer {
  return {
    name,
    apply(program) {
      for (const step of program.steps) {
        if (step.kind !== 'multiply') continue;
        const marked = step.inputs.map((slot) => activations.has(producingActivation(program, slot) ?? ''));
        if (!marked.some(Boolean)) continue;
        step.gates = step.inputs.map((_, k) => (step.gates?.[k] ?? false) || marked[k]);
      }
    },
  };
}

const gates = gateMarker('gates', SIGMOIDS);
const attention = gateMarker('attention', SOFTMAXES);

/** The built-in canonizers (also available by name). */
export const canonizers = {
  /** `'merge-batch-norm'`: folds element-wise affine steps (BatchNorm, Rescaling, ...) into the linear step before them. */
  mergeBatchNorm,
  /** `'gates'`: product inputs produced by a sigmoid (or hard sigmoid) are gates and get no relevance. */
  gates,
  /** `'attention'`: product inputs produced by a softmax (attention weights) are gates and get no relevance. */
  attention,
};

/** The canonizers `canonize: true` (the default) applies, in order. */
export const DEFAULT_CANONIZERS: readonly string[] = ['merge-batch-norm', 'gates', 'attention'];

const registry = new Map<string, Canonizer>(Object.values(canonizers).map((c) => [c.name, c]));

/**
 * Makes a canonizer available by name in `lrp`'s `canonize` option (`canonize: ['merge-batch-norm',
 * 'my-pass']`). Registering a name again replaces it.
 */
export function registerCanonizer(canonizer: Canonizer): void {
  if (canonizer === null || typeof canonizer !== 'object' || typeof canonizer.name !== 'string' || canonizer.name.length === 0 || typeof canonizer.apply !== 'function') {
    throw new GlassboxArgumentError('canonizer', `expected { name: string, apply(program) }, got ${describeValue(canonizer)}`);
  }
  registry.set(canonizer.name, canonizer);
}

/** Resolves `lrp`'s `canonize` option: `true` the defaults, `false` none, or a list of names and canonizers. */
export function resolveCanonizers(canonize: unknown): Canonizer[] {
  if (canonize === undefined || canonize === true) return DEFAULT_CANONIZERS.map((name) => registry.get(name)!);
  if (canonize === false) return [];
  if (!Array.isArray(canonize)) {
    throw new GlassboxArgumentError('options.canonize', `expected a boolean or a list of canonizers (names or objects), got ${describeValue(canonize)}`);
  }
  return canonize.map((item: unknown, i) => {
    if (typeof item === 'string') {
      const found = registry.get(item);
      if (!found) {
        throw new GlassboxArgumentError(`options.canonize[${i}]`, `unknown canonizer ${JSON.stringify(item)}; known: ${[...registry.keys()].map((k) => `'${k}'`).join(', ')}`);
      }
      return found;
    }
    if (item !== null && typeof item === 'object' && typeof (item as Canonizer).apply === 'function' && typeof (item as Canonizer).name === 'string') {
      return item as Canonizer;
    }
    throw new GlassboxArgumentError(`options.canonize[${i}]`, `expected a canonizer name or { name, apply(program) }, got ${describeValue(item)}`);
  });
}
