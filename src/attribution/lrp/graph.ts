/**
 * Turns a tfjs LayersModel (Sequential or functional, nested models included) into a flat program of
 * steps over numbered value slots, each step one layer call (or one part of it: the linear operation
 * and the fused activation are separate steps) with the rule the composite gives it.
 *
 * Why not `tf.customGrad` with autodiff doing the topology (the design sketch): a rule needs
 * vector–Jacobian products of its modified forward passes, and tfjs 4.22 cannot run `tf.grad` inside a
 * custom gradient (the nested call replaces the engine's active tape, then the outer pass crashes and
 * leaks its saved tensors). So {@link ./propagate} walks this program backwards itself: fan-out sums,
 * Add and Concatenate are the same few lines, and the relevance at any layer's output comes for free.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxArgumentError, GlassboxModelError } from '../../core/errors';
import { mergeBatchNorms } from './canonizers';
import { ruleFor, type Composite } from './composites';
import { describeLayer, type LayerKind, type LinearOperation, type LinearParameters } from './layer-catalogue';
import type { Rule } from './rules';

/** One layer call (or part of one) in a {@link Program}. */
export interface Step {
  /** The layer, for messages and rule lookup. */
  layer: tfl.layers.Layer;
  /** `layer.name`, with the part for split layers (`sep/pointwise`, `dense/activation`). */
  label: string;
  /** Name and class the composite matches (fused activations match as class 'Activation'). */
  name: string;
  className: string;
  kind: LayerKind | null;
  inputs: number[];
  output: number;
  /** The linear operation, for linear steps. */
  linear?: LinearOperation;
  /** Parameters of a linear step (the layer's own or BatchNorm-merged ones); null otherwise. */
  parameters: LinearParameters | null;
  /** `z = f(inputs; parameters)`. */
  forward(inputs: tf.Tensor[], parameters: LinearParameters | null): tf.Tensor;
  /** Activation function name for activation steps (to strip a final softmax). */
  activation?: string;
  /** Rank of the input, for BatchNorm steps (merging needs the channel axis to be the last). */
  inputRank?: number;
  /** The layer's own rule from its description, if it has one. */
  ownRule?: Rule;
  rule: Rule;
}

/** A compiled model: run the steps in order from slot `input`; the explained output is slot `output`. */
export interface Program {
  steps: Step[];
  numSlots: number;
  input: number;
  output: number;
  /** The output slot(s) of every layer, by name (several for a layer called more than once). */
  layerOutputs: Map<string, number[]>;
  /** Whether a final softmax was left out (the pre-softmax score is explained). */
  softmaxStripped: boolean;
  /** Frees the tensors the program owns (merged BatchNorm parameters). */
  dispose(): void;
}

/** Options of {@link compileProgram}. */
export interface CompileOptions {
  composite: Composite;
  /** Merge BatchNormalization layers into the linear layer before them (default true). */
  canonize: boolean;
}

type DraftStep = Omit<Step, 'rule'>;

/** Compiles `model` for LRP under `options.composite`. Throws for layers without a rule. */
export function compileProgram(model: tfl.LayersModel, options: CompileOptions): Program {
  const owned: tf.Tensor[] = [];
  const draft: Draft = { steps: [], numSlots: 1, layerOutputs: new Map<string, number[]>(), owned };
  try {
    let output = addContainer(model, [0], draft);
    let steps = draft.steps;
    const aliases = new Map<number, number>();
    if (options.canonize) {
      const merged = mergeBatchNorms(steps, output);
      steps = merged.steps;
      owned.push(...merged.owned);
      merged.aliases.forEach((to, from) => aliases.set(from, to));
    }
    const resolve = (slot: number): number => aliases.get(slot) ?? slot;
    output = resolve(output);
    steps.forEach((s) => (s.inputs = s.inputs.map(resolve)));
    const layerOutputs = new Map([...draft.layerOutputs].map(([name, slots]) => [name, slots.map(resolve)]));

    const last = steps.find((s) => s.output === output);
    const softmaxStripped = last?.activation === 'softmax';
    if (softmaxStripped) output = last!.inputs[0];
    const live = liveSteps(steps, output);
    return {
      steps: assignRules(live, options.composite),
      numSlots: draft.numSlots,
      input: 0,
      output,
      layerOutputs,
      softmaxStripped,
      dispose: () => owned.forEach((t) => t.dispose()),
    };
  } catch (error) {
    owned.forEach((t) => t.dispose());
    throw error;
  }
}

/** The slot holding the output of layer `name`, validated for `relevanceAt`. */
export function layerSlot(program: Program, name: string, argument: string): number {
  const slots = program.layerOutputs.get(name);
  if (!slots) {
    const known = [...program.layerOutputs.keys()];
    throw new GlassboxArgumentError(
      argument,
      `no layer named ${JSON.stringify(name)} in the model; layers: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}`,
    );
  }
  if (new Set(slots).size > 1) {
    throw new GlassboxArgumentError(argument, `layer "${name}" is called ${slots.length} times in the model; its output is ambiguous`);
  }
  const slot = slots[0];
  if (slot !== program.input && slot !== program.output && !program.steps.some((s) => s.inputs.includes(slot))) {
    throw new GlassboxArgumentError(
      argument,
      `the output of layer "${name}" does not reach the explained output${program.softmaxStripped ? ' (the final softmax is not explained: LRP explains the pre-softmax score)' : ''}`,
    );
  }
  return slot;
}

interface Draft {
  steps: DraftStep[];
  numSlots: number;
  layerOutputs: Map<string, number[]>;
  /** Tensors the layer descriptions made; the program frees them. */
  owned: tf.Tensor[];
}

function recordOutput(draft: Draft, name: string, slot: number): void {
  draft.layerOutputs.set(name, [...(draft.layerOutputs.get(name) ?? []), slot]);
}

/** Adds the steps of a (nested) model whose inputs are in `inputSlots`; returns its output slot. */
function addContainer(model: tfl.LayersModel, inputSlots: number[], draft: Draft): number {
  if (model.outputs.length !== 1) {
    throw new GlassboxModelError(`lrp: model "${model.name}" has ${model.outputs.length} outputs; LRP needs one`);
  }
  if (model instanceof tfl.Sequential) {
    return model.layers.reduce((slot, layer) => addLayer(layer, [slot], {}, inputRankOf(layer), draft), inputSlots[0]);
  }
  const slots = new Map<number, number>();
  model.inputs.forEach((input, i) => slots.set(input.id, inputSlots[i]));
  model.inputLayers.forEach((layer, i) => recordOutput(draft, layer.name, inputSlots[i]));
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of model.nodesByDepth[depth]) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      if (node.outputTensors.length !== 1) {
        throw new GlassboxModelError(`lrp: layer "${layer.name}" (${layer.getClassName()}) has several outputs; LRP supports single-output layers`);
      }
      const inputs = node.inputTensors.map((t) => slots.get(t.id));
      if (inputs.some((s) => s === undefined)) {
        throw new GlassboxModelError(`lrp: cannot order the graph of "${model.name}" at layer "${layer.name}"`);
      }
      const rank = node.inputTensors[0]?.rank;
      slots.set(node.outputTensors[0].id, addLayer(layer, inputs as number[], node.callArgs ?? {}, rank, draft));
    }
  }
  const output = slots.get(model.outputs[0].id);
  if (output === undefined) throw new GlassboxModelError(`lrp: cannot compute the output of "${model.name}"`);
  return output;
}

function inputRankOf(layer: tfl.layers.Layer): number | undefined {
  return layer.inboundNodes[0]?.inputTensors[0]?.rank;
}

/** Adds the steps of one layer call; returns the slot of its output. */
function addLayer(layer: tfl.layers.Layer, inputs: number[], callArgs: Record<string, unknown>, inputRank: number | undefined, draft: Draft): number {
  if (layer instanceof tfl.LayersModel) {
    const output = addContainer(layer, inputs, draft);
    recordOutput(draft, layer.name, output);
    return output;
  }
  const className = layer.getClassName();
  const description = describeLayer(layer);
  draft.owned.push(...(description?.owned ?? []));
  const push = (step: Omit<DraftStep, 'output' | 'layer' | 'inputs'>, stepInputs: number[]): number => {
    const output = draft.numSlots++;
    draft.steps.push({ ...step, layer, inputs: stepInputs, output });
    return output;
  };
  let output: number;
  if (description?.linear) {
    output = inputs[0];
    for (const operation of description.linear) {
      output = push(
        {
          label: operation.part ? `${layer.name}/${operation.part}` : layer.name,
          name: layer.name,
          className,
          kind: description.kind,
          linear: operation,
          parameters: operation.parameters,
          forward: ([x], parameters) => operation.forward(x, parameters!),
          ownRule: description.rule,
        },
        [output],
      );
    }
    const activation = description.activation ?? 'linear';
    if (activation !== 'linear') {
      const activationLayer = tfl.layers.activation({ activation: activation as 'relu' });
      output = push(
        {
          label: `${layer.name}/activation`,
          name: `${layer.name}/activation`,
          className: 'Activation',
          kind: 'activation',
          parameters: null,
          forward: ([z]) => activationLayer.call(z, {}) as tf.Tensor,
          activation,
        },
        [output],
      );
    }
  } else {
    const kwargs = { ...callArgs, training: false };
    const config = layer.getConfig();
    output = push(
      {
        label: layer.name,
        name: layer.name,
        className,
        kind: description?.kind ?? null,
        parameters: null,
        ownRule: description?.rule,
        forward: (xs) => {
          const result = layer.call(xs.length === 1 ? xs[0] : xs, kwargs);
          if (!(result instanceof tf.Tensor)) {
            throw new GlassboxModelError(`lrp: layer "${layer.name}" (${className}) returned several tensors; LRP supports single-output layers`);
          }
          return result;
        },
        activation: className === 'Softmax' ? 'softmax' : className === 'Activation' ? String(config.activation) : undefined,
        inputRank,
      },
      inputs,
    );
  }
  recordOutput(draft, layer.name, output);
  return output;
}

/** The steps that the output depends on, in order. */
function liveSteps(steps: DraftStep[], output: number): DraftStep[] {
  const needed = new Set([output]);
  const live: DraftStep[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    if (!needed.has(steps[i].output)) continue;
    live.unshift(steps[i]);
    steps[i].inputs.forEach((s) => needed.add(s));
  }
  return live;
}

/** Gives every step its rule; a linear step is "first" when no linear step lies upstream of it. */
function assignRules(steps: DraftStep[], composite: Composite): Step[] {
  const linearUpstream = new Set<number>();
  return steps.map((step) => {
    const upstream = step.inputs.some((s) => linearUpstream.has(s));
    if (upstream || step.linear) linearUpstream.add(step.output);
    const rule = ruleFor(composite, {
      name: step.name,
      className: step.className,
      kind: step.kind,
      first: step.linear !== undefined && !upstream,
      own: step.ownRule,
    });
    if (rule === null) {
      const className = step.layer.getClassName();
      throw new GlassboxModelError(
        `lrp: layer "${step.layer.name}" (class ${className}) has no LRP rule in composite '${composite.name}'. ` +
          `Give it one with options.layerRules, e.g. { byClass: { ${className}: rules.pass() } } or ` +
          `{ byName: { '${step.layer.name}': rules.epsilon() } }, or describe the class once with ` +
          `registerLrpLayer('${className}', { kind, linear? }) so every composite knows it.`,
      );
    }
    return { ...step, rule };
  });
}
