/**
 * Compiles a tfjs LayersModel (Sequential or functional, several inputs, nested models, layers called
 * more than once) into an LRP {@link Program}: every layer call becomes the steps its description in the
 * layer catalogue gives it (see `registerLrpLayer`).
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxArgumentError, GlassboxModelError } from '../../core/errors';
import { layerCall, registerBuiltInLayers } from './builtin-layers';
import { registerRecurrentLayers } from './recurrent';
import { resolveCanonizers, type Canonizer } from './canonizers';
import type { Composite } from './composites';
import { lrpLayerSpec, type LrpBuilder, type LrpStepSpec } from './layer-catalogue';
import { finishProgram, ProgramDraft, type Program, type ProgramStep } from './program';

registerBuiltInLayers();
registerRecurrentLayers();

/** Options of {@link compileProgram}. */
export interface CompileOptions {
  composite: Composite;
  /** Apply the default canonizers (`true`), none (`false`), or the given ones. */
  canonize: boolean | readonly Canonizer[];
}

/** Compiles `model` for LRP under `options.composite`. Throws for layers without a rule. */
export function compileProgram(model: tfl.LayersModel, options: CompileOptions): Program {
  const draft = new ProgramDraft();
  try {
    model.inputs.forEach(() => draft.inputs.push(draft.newSlot()));
    draft.output = addContainer(model, draft.inputs, draft);
  } catch (error) {
    draft.dispose();
    throw error;
  }
  const canonizers = Array.isArray(options.canonize) ? options.canonize : resolveCanonizers(options.canonize);
  return finishProgram(draft, { composite: options.composite, canonizers });
}

/** The slot holding the output of layer (or graph node) `name`, validated for `lrp`'s `layer` option. */
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
  if (!program.inputs.includes(slot) && slot !== program.output && !program.steps.some((s) => s.inputs.includes(slot))) {
    const stripped = program.strippedActivation;
    throw new GlassboxArgumentError(
      argument,
      `the output of layer "${name}" does not reach the explained output${stripped ? ` (the final ${stripped} is not explained: LRP explains the score before it)` : ''}`,
    );
  }
  return slot;
}

/** Adds the steps of a (nested) model whose inputs are in `inputSlots`; returns its output slot. */
function addContainer(model: tfl.LayersModel, inputSlots: readonly number[], draft: ProgramDraft): number {
  if (model.outputs.length !== 1) {
    throw new GlassboxModelError(`lrp: model "${model.name}" has ${model.outputs.length} outputs; LRP needs one`);
  }
  if (model instanceof tfl.Sequential) {
    return model.layers.reduce(
      (slot, layer) => addLayer(layer, [slot], {}, [layer.inboundNodes[0]?.inputTensors[0]?.shape], draft),
      inputSlots[0],
    );
  }
  const slots = new Map<number, number>();
  model.inputs.forEach((input, i) => slots.set(input.id, inputSlots[i]));
  model.inputLayers.forEach((layer, i) => draft.record(layer.name, inputSlots[i]));
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
      const shapes = node.inputTensors.map((t) => t.shape);
      slots.set(node.outputTensors[0].id, addLayer(layer, inputs as number[], node.callArgs ?? {}, shapes, draft));
    }
  }
  const output = slots.get(model.outputs[0].id);
  if (output === undefined) throw new GlassboxModelError(`lrp: cannot compute the output of "${model.name}"`);
  return output;
}

type Shape = readonly (number | null)[] | undefined;


/** Adds the steps of one layer call; returns the slot of its output. */
function addLayer(layer: tfl.layers.Layer, inputs: number[], callArgs: Record<string, unknown>, shapes: readonly Shape[], draft: ProgramDraft): number {
  if (layer instanceof tfl.LayersModel) {
    const output = addContainer(layer, inputs, draft);
    draft.record(layer.name, output);
    return output;
  }
  const className = layer.getClassName();
  if (className === 'InputLayer') return inputs[0];
  if (callArgs.mask !== undefined && callArgs.mask !== null) {
    throw new GlassboxModelError(`lrp: layer "${layer.name}" (${className}) is called with a mask (e.g. from Embedding's maskZero); LRP does not support masks`);
  }
  const spec = lrpLayerSpec(layer);
  const builder = layerBuilder(layer, shapes, draft);
  let output: number;
  if (spec?.expand) {
    output = spec.expand(layer, builder, inputs);
  } else if (spec?.linear) {
    const { weight, bias } = spec.linear.parameters(layer);
    const { forward, transpose } = spec.linear;
    output = builder.add({ inputs, kind: spec.kind!, parameters: { weight, bias: bias ?? null }, forward: ([x], p) => forward(x, p!), transpose, rule: spec.rule });
  } else {
    // Known only by kind, or not at all: its own call is the forward pass (a rule by class can serve it).
    output = builder.add({ inputs, kind: spec?.kind ?? null, forward: layerCall(layer), rule: spec?.rule });
  }
  draft.record(layer.name, output);
  return output;
}

/** The builder a layer's description adds its steps with: names, classes and the layer filled in. */
function layerBuilder(layer: tfl.layers.Layer, shapes: readonly Shape[], draft: ProgramDraft): LrpBuilder {
  return {
    add: (spec) => draft.push(stepFromSpec(spec, { name: layer.name, className: layer.getClassName(), layer })),
    layer: (inner, inputs, innerShapes) => addLayer(inner, [...inputs], {}, innerShapes ?? shapes, draft),
    own: (tensor) => draft.own(tensor),
    inputShapes: shapes,
  };
}

/** A program step from a description's step: `layer/part` labels, names and classes by convention. */
export function stepFromSpec(
  spec: LrpStepSpec,
  origin: { name: string; className: string; layer?: tfl.layers.Layer; node?: ProgramStep['node'] },
): Omit<ProgramStep, 'output'> {
  const label = spec.part ? `${origin.name}/${spec.part}` : origin.name;
  const linear = spec.parameters !== undefined;
  return {
    label,
    // Linear parts keep the layer's name (rules by name reach both parts of a SeparableConv2D).
    name: linear ? origin.name : label,
    className: spec.className ?? origin.className,
    kind: spec.kind,
    inputs: [...spec.inputs],
    forward: spec.forward,
    parameters: spec.parameters ?? null,
    scaleOutputs: spec.scaleOutputs,
    transpose: spec.transpose,
    activation: spec.activation,
    affine: spec.affine,
    gates: spec.gates ? [...spec.gates] : undefined,
    constant: spec.constant,
    ownRule: spec.rule,
    layer: origin.layer,
    node: origin.node,
  };
}
