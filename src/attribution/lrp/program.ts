/**
 * The LRP program: a model (a tfjs LayersModel or a converted GraphModel) as a flat list of steps over
 * numbered value slots, each step one operation (a layer call, or one part of it: the linear operation
 * and the fused activation are separate steps) with the rule its composite gives it.
 *
 * Why not `tf.customGrad` with autodiff doing the topology (the design sketch): a rule needs
 * vector–Jacobian products of its modified forward passes, and tfjs 4.22 cannot run `tf.grad` inside a
 * custom gradient (the nested call replaces the engine's active tape, then the outer pass crashes and
 * leaks its saved tensors). So {@link ./propagate} walks the program backwards itself: fan-out sums,
 * merges and concatenations are the same few lines, and the relevance at any step's output comes for
 * free. A compiler (`graph.ts` for LayersModels, `graph-model.ts` for GraphModels) fills a
 * {@link ProgramDraft}; canonizers rewrite the draft; {@link finishProgram} gives every step its rule.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxModelError } from '../../core/errors';
import type { Canonizer } from './canonizers';
import { ruleFor, type Composite, type LrpLayerInfo } from './composites';
import type { AffineParameters, LayerKind, LinearParameters, LinearTranspose } from './layer-catalogue';
import { isWeightsOnly, keepParameters, type BasicRule, type ParameterModifier, type ParameterRole, type Rule } from './rules';

/** A node of a converted GraphModel, as LRP reads it. */
export interface LrpGraphNode {
  /** The node's name in the graph. */
  readonly name: string;
  /** The TensorFlow op (`'Conv2D'`, `'_FusedConv2D'`, `'AddV2'`, ...). */
  readonly op: string;
  /** The node's attributes, decoded (`strides: [1, 2, 2, 1]`, `padding: 'SAME'`, `fused_ops: ['BiasAdd', 'Relu']`, ...). */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Per input, in order: its value when it is a constant (a weight of the model), else `null`. */
  readonly inputs: readonly (tf.Tensor | null)[];
}

/** One operation of a program before rules are assigned; canonizers see and rewrite these. */
export interface ProgramStep {
  /** `layer/part` for steps that are part of a layer (`dense/activation`, `lstm/t2/candidate`), else the layer's name. */
  label: string;
  /** The name rules by name match: the layer's (or node's) name, `layer/part` for non-linear parts. */
  name: string;
  /** The class rules by class match: the layer class or graph op (fused activations: `'Activation'`). */
  className: string;
  /** The composite slot of the step (see {@link LayerKind}); `null` when only a rule by name or class can serve it. */
  kind: LayerKind | null;
  /** The slots the step reads, in the order of `forward`'s inputs. */
  inputs: number[];
  /** The slot the step writes. */
  output: number;
  /** `z = f(inputs; parameters)`. */
  forward(inputs: tf.Tensor[], parameters: LinearParameters | null): tf.Tensor;
  /** The parameters of a linear step (the layer's own or merged ones); null for other steps. */
  parameters: LinearParameters | null;
  /** For linear steps: scales output channel `c` of the weight by `scale[c]`. */
  scaleOutputs?(weight: tf.Tensor, scale: tf.Tensor): tf.Tensor;
  /** For linear steps: the transpose of the linear map (see `LrpStepSpec.transpose`). */
  transpose?: LinearTranspose;
  /** For activation steps: the function's name. */
  activation?: string;
  /** For element-wise affine steps: `y = x·scale + shift` along the last axis. */
  affine?: AffineParameters;
  /** For products: which inputs are gates. */
  gates?: boolean[];
  /** The output does not depend on the input values; relevance stops here. */
  constant?: boolean;
  /** The rule the step's own description gives it. */
  ownRule?: Rule;
  /** The tfjs layer the step comes from (LayersModels). */
  layer?: tfl.layers.Layer;
  /** The graph node the step comes from (GraphModels). */
  node?: LrpGraphNode;
}

/** A step with its rule. */
export interface Step extends ProgramStep {
  rule: Rule;
  /**
   * For a linear step under a basic rule: the parameters of each rule branch, modified once when the
   * program is compiled (owned by the program).
   */
  branchParameters?: readonly (LinearParameters | null)[];
}

/** A compiled model: run the steps in order from the input slots; the explained output is slot `output`. */
export interface Program {
  steps: Step[];
  numSlots: number;
  /** One slot per model input, in the model's input order. */
  inputs: number[];
  output: number;
  /** The output slot(s) of every layer or graph node, by name (several for a layer called more than once). */
  layerOutputs: Map<string, number[]>;
  /** The final activation left out (LRP explains the score before it), if any. */
  strippedActivation: 'softmax' | 'sigmoid' | null;
  /**
   * The tensors the program owns (merged and modified parameters): constants of every computation on
   * the program, so tensors derived from them (transposed filters) may be cached per call.
   */
  constants: readonly tf.Tensor[];
  /** Frees the tensors the program owns (merged parameters, kernels built for the program). */
  dispose(): void;
}

/**
 * A program under construction: compilers add steps, canonizers rewrite them. Slots are numbers; a
 * step reads the slots in `inputs` and writes the slot `output`.
 */
export class ProgramDraft {
  /** The steps in execution order (every step's inputs are written by earlier steps or are model inputs). */
  readonly steps: ProgramStep[] = [];
  /** One slot per model input. */
  readonly inputs: number[] = [];
  /** The slot of the explained output (set by the compiler). */
  output = -1;
  /** How many slots exist: slots are `0..numSlots−1`. */
  numSlots = 0;
  /** The output slot(s) of every layer or graph node, by name (several for a layer called more than once). */
  readonly layerOutputs = new Map<string, number[]>();
  private readonly owned: tf.Tensor[] = [];
  private readonly aliases = new Map<number, number>();

  /** A new slot number. */
  newSlot(): number {
    return this.numSlots++;
  }

  /** Adds a step writing a new slot; returns the slot. */
  push(step: Omit<ProgramStep, 'output'>): number {
    const output = this.newSlot();
    this.steps.push({ ...step, output });
    return output;
  }

  /** Keeps `tensor` alive as long as the program; returns it. */
  own<T extends tf.Tensor>(tensor: T): T {
    this.owned.push(tensor);
    return tensor;
  }

  /** Records that layer (or node) `name` writes `slot`. */
  record(name: string, slot: number): void {
    this.layerOutputs.set(name, [...(this.layerOutputs.get(name) ?? []), slot]);
  }

  /** The step writing `slot`, if any (model inputs have none). */
  producer(slot: number): ProgramStep | undefined {
    return this.steps.find((s) => s.output === slot);
  }

  /** The steps reading `slot`. */
  consumers(slot: number): ProgramStep[] {
    return this.steps.filter((s) => s.inputs.includes(slot));
  }

  /** How often `slot` is read (the explained output counts as one read). */
  uses(slot: number): number {
    return this.steps.reduce((n, s) => n + s.inputs.filter((i) => i === slot).length, slot === this.output ? 1 : 0);
  }

  /** Puts `replacement` where `step` was (it writes the same slot). */
  replace(step: ProgramStep, replacement: Omit<ProgramStep, 'output'>): void {
    const index = this.indexOf(step);
    this.steps[index] = { ...replacement, output: step.output };
  }

  /** Removes `step`, an identity now: every reader of its output reads `slot` instead. */
  bypass(step: ProgramStep, slot: number): void {
    this.steps.splice(this.indexOf(step), 1);
    this.aliases.set(step.output, slot);
    const resolve = (s: number): number => (s === step.output ? slot : s);
    this.steps.forEach((s) => (s.inputs = s.inputs.map(resolve)));
    this.output = resolve(this.output);
  }

  /** The slot `slot` now stands for (after {@link bypass}). */
  resolve(slot: number): number {
    let s = slot;
    while (this.aliases.has(s)) s = this.aliases.get(s)!;
    return s;
  }

  /** Frees the owned tensors. */
  dispose(): void {
    this.owned.forEach((t) => t.dispose());
    this.owned.length = 0;
  }

  /** The owned tensors, handed to the finished program. */
  takeOwned(): tf.Tensor[] {
    return this.owned.splice(0);
  }

  private indexOf(step: ProgramStep): number {
    const index = this.steps.indexOf(step);
    if (index < 0) throw new GlassboxModelError(`lrp: step "${step.label}" is not part of the program`);
    return index;
  }
}

/** Options of {@link finishProgram}. */
export interface FinishOptions {
  composite: Composite;
  /** Canonizers to apply, in order. */
  canonizers: readonly Canonizer[];
}

/** Activations a probability output ends with; LRP explains the score before them. */
const PROBABILITY_ACTIVATIONS = new Set(['softmax', 'sigmoid']);

/**
 * Applies the canonizers, leaves out a final softmax or sigmoid, drops the steps the output does not
 * depend on and gives every step its rule. Takes over the draft's tensors (also on error).
 */
export function finishProgram(draft: ProgramDraft, options: FinishOptions): Program {
  try {
    for (const canonizer of options.canonizers) canonizer.apply(draft);
    let output = draft.output;
    const last = draft.producer(output);
    const strippedActivation = last?.activation !== undefined && PROBABILITY_ACTIVATIONS.has(last.activation) ? (last.activation as 'softmax' | 'sigmoid') : null;
    if (strippedActivation !== null) output = last!.inputs[0];
    const layerOutputs = new Map([...draft.layerOutputs].map(([name, slots]) => [name, slots.map((s) => draft.resolve(s))]));
    const live = liveSteps(draft.steps, output);
    const steps = assignRules(live, options.composite, nonNegativeSlots(live)).map((step) => withBranchParameters(step, draft));
    const owned = draft.takeOwned();
    return {
      steps,
      numSlots: draft.numSlots,
      inputs: [...draft.inputs],
      output,
      layerOutputs,
      strippedActivation,
      constants: owned,
      dispose: () => owned.forEach((t) => t.dispose()),
    };
  } catch (error) {
    draft.dispose();
    throw error;
  }
}

/** The steps that the output depends on, in order. */
function liveSteps(steps: readonly ProgramStep[], output: number): ProgramStep[] {
  const needed = new Set([output]);
  const live: ProgramStep[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    if (!needed.has(steps[i].output)) continue;
    live.unshift(steps[i]);
    steps[i].inputs.forEach((s) => needed.add(s));
  }
  return live;
}

/** Activations whose output is ≥ 0. */
const NON_NEGATIVE_ACTIVATIONS = new Set(['relu', 'relu6', 'softmax', 'sigmoid', 'softplus', 'hardSigmoid', 'hard_sigmoid', 'hardsigmoid']);

/**
 * Layer classes and graph ops whose output is ≥ 0 wherever all their inputs are: pooling, means and
 * sums, maxima, concatenation, reshapes, zero padding, cropping, repeats and dropout at inference.
 * (Not `Minimum` or a graph's `Add`, which may take a negative constant.)
 */
const SIGN_PRESERVING = new Set([
  'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'Maximum',
  'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'Average',
  'Concatenate', 'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D',
  'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
  'MaxPool', 'AvgPool', 'Mean', 'Sum', 'ConcatV2', 'Squeeze', 'ExpandDims', 'Transpose', 'Pad',
]);

/**
 * The slots whose values are ≥ 0 for every input, read off the program's structure: outputs of
 * non-negative activations (ReLU, ReLU6, softmax, sigmoid, softplus), and of sign-preserving steps
 * all of whose inputs are such slots.
 */
export function nonNegativeSlots(steps: readonly ProgramStep[]): Set<number> {
  const slots = new Set<number>();
  for (const step of steps) {
    const activation = step.activation !== undefined && NON_NEGATIVE_ACTIVATIONS.has(step.activation);
    const preserved = SIGN_PRESERVING.has(step.className) && step.inputs.length > 0 && step.inputs.every((s) => slots.has(s));
    if (activation || preserved) slots.add(step.output);
  }
  return slots;
}

/**
 * `step` with the parameters of each branch of its basic rule computed once (the weight of a
 * weights-only modifier shared with the modifier it wraps, its bias left out), owned by `draft`.
 */
function withBranchParameters(step: Step, draft: ProgramDraft): Step {
  const { rule, parameters } = step;
  if (rule.kind !== 'basic' || parameters === null) return step;
  // A modifier that returns its parameter unchanged (a rule's own identity) must not hand the model's weight to the draft.
  const modified = (modify: ParameterModifier, parameter: tf.Tensor, role: ParameterRole): tf.Tensor => {
    const result = tf.tidy(() => modify(parameter, role));
    return result === parameter ? parameter : draft.own(result);
  };
  const weights = new Map<ParameterModifier, tf.Tensor>();
  const weightOf = (modify: ParameterModifier): tf.Tensor => {
    let weight = weights.get(modify);
    if (weight === undefined) weights.set(modify, (weight = modified(modify, parameters.weight, 'weight')));
    return weight;
  };
  // Weights-only modifiers with factors: W⁺ once, then 2αW⁺, βW⁺, ... from it.
  const scaled = new Map<ParameterModifier, Map<number, tf.Tensor>>();
  const scaledWeightOf = (modify: ParameterModifier, factor: number): tf.Tensor => {
    if (factor === 1) return weightOf(modify);
    const byFactor = scaled.get(modify) ?? new Map<number, tf.Tensor>();
    scaled.set(modify, byFactor);
    let weight = byFactor.get(factor);
    if (weight === undefined) byFactor.set(factor, (weight = draft.own(tf.mul(weightOf(modify), factor))));
    return weight;
  };
  const branchParameters = rule.parameterModifiers.map((modify): LinearParameters => {
    if (modify === keepParameters) return parameters;
    if (isWeightsOnly(modify)) return { weight: scaledWeightOf(modify.weightsOf, modify.factor ?? 1), bias: null };
    const bias = parameters.bias;
    return { weight: weightOf(modify), bias: bias === null ? null : modified(modify, bias, 'bias') };
  });
  return { ...step, branchParameters };
}

/**
 * Gives every step its rule; a linear step is "first" when no linear step lies upstream of it. A basic
 * rule's form for non-negative inputs serves the steps whose inputs are all in `nonNegative`.
 */
function assignRules(steps: ProgramStep[], composite: Composite, nonNegative: ReadonlySet<number>): Step[] {
  const linearUpstream = new Set<number>();
  return steps.map((step) => {
    const upstream = step.inputs.some((s) => linearUpstream.has(s));
    const linear = step.parameters !== null;
    if (upstream || linear) linearUpstream.add(step.output);
    if (step.constant) return { ...step, rule: CONSTANT_RULE };
    const info: LrpLayerInfo = {
      name: step.name,
      className: step.className,
      kind: step.kind,
      label: step.label,
      first: linear && !upstream,
      inputs: step.inputs.length,
      ownRule: step.ownRule,
      layer: step.layer,
      node: step.node,
    };
    const rule = ruleFor(composite, info);
    if (rule === null) throw new GlassboxModelError(noRuleMessage(step, composite));
    if (rule.kind === 'pass' && step.inputs.length !== 1) {
      throw new GlassboxModelError(
        `lrp: the pass rule cannot serve ${origin(step)}: it has ${step.inputs.length} inputs and the pass rule ` +
          `hands the relevance to one. ${multiInputAdvice(step)}`,
      );
    }
    return { ...step, rule: formFor(rule, step.inputs.every((s) => nonNegative.has(s)), linear) };
  });
}

/**
 * The form of `rule` a step runs: for non-negative inputs where the inputs are known to be ≥ 0, then
 * on a step with parameters its form for such steps (see {@link BasicRule}).
 */
function formFor(rule: Rule, nonNegativeInputs: boolean, withParameters: boolean): Rule {
  if (rule.kind !== 'basic') return rule;
  const form = nonNegativeInputs ? (rule.nonNegativeInput ?? rule) : rule;
  return withParameters ? (form.withParameters ?? form) : form;
}

/** Constant steps pass no relevance on; their rule is never run. */
const CONSTANT_RULE: Rule = { kind: 'gradient', name: 'gradient' };

function origin(step: ProgramStep): string {
  if (step.node) return `node "${step.node.name}" (op ${step.node.op})`;
  const name = step.layer?.name ?? step.name;
  return `layer "${name}" (class ${step.layer?.getClassName() ?? step.className})`;
}

function multiInputAdvice(step: ProgramStep): string {
  return (
    `For a step with several inputs use rules.norm() (shares by contribution, for sums), rules.signalTakeAll() ` +
    `(products: gates get nothing, signals share) or rules.gradient() (routing), e.g. ` +
    `layerRules: { byClass: { ${step.className}: rules.norm() } }.`
  );
}

function noRuleMessage(step: ProgramStep, composite: Composite): string {
  const suggested = step.inputs.length > 1 ? 'rules.norm()' : 'rules.pass()';
  const register = step.node
    ? `or describe the op once with registerLrpOp('${step.node.op}', { kind, forward }) so every composite knows it.`
    : `or describe the class once with registerLrpLayer('${step.className}', { kind, linear? }) so every composite knows it.`;
  return (
    `lrp: ${origin(step)} has no LRP rule in composite '${composite.name}'. ` +
    `Give it one with options.layerRules, e.g. { byClass: { ${step.className}: ${suggested} } } or ` +
    `{ byName: { '${step.name}': rules.epsilon() } }, ${register}` +
    (step.inputs.length > 1 ? ` ${multiInputAdvice(step)}` : '')
  );
}

