/**
 * Compiles a converted TensorFlow GraphModel (tfjs-converter's `tf.GraphModel`) into an LRP
 * {@link Program}: the graph's nodes, in dependency order from the placeholders to the output, each
 * become the steps its op's description gives it (see `registerLrpOp`); constant nodes are the
 * weights, Identity nodes are skipped, nodes of constants only are evaluated once.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxModelError } from '../../core/errors';
import { mergeAffineSteps, type Canonizer } from './canonizers';
import type { Composite } from './composites';
import { stepFromSpec } from './graph';
import { decodeAttributes, parseInputReference, readGraph, type GraphDefNode, type GraphModelLike, type GraphSource } from './graph-model-source';
import { lrpOpSpec, registerBuiltInOps } from './graph-ops';
import type { LrpBuilder } from './layer-catalogue';
import { finishProgram, ProgramDraft, type LrpGraphNode, type Program } from './program';

registerBuiltInOps();

/** Options of {@link compileGraphModel}. */
export interface GraphCompileOptions {
  composite: Composite;
  canonize: readonly Canonizer[];
}

/** Ops that pass their input through unchanged. */
const IDENTITY_OPS = new Set(['Identity', 'IdentityN', 'Snapshot', 'StopGradient', 'PreventGradient']);

/** Compiles `model` for LRP under `options.composite`. Throws for ops LRP does not know. */
export async function compileGraphModel(model: GraphModelLike, options: GraphCompileOptions): Promise<Program> {
  const graph = await readGraph(model);
  if (graph.outputs.length !== 1) {
    throw new GlassboxModelError(`lrp: the GraphModel has ${graph.outputs.length} outputs (${graph.outputs.join(', ')}); LRP needs one`);
  }
  const draft = new ProgramDraft();
  try {
    addGraph(graph, draft);
    // A BiasAdd is the bias of the convolution or MatMul before it (TensorFlow's unfused form).
    mergeAffineSteps(draft, (step) => step.className === 'BiasAdd');
  } catch (error) {
    draft.dispose();
    throw error;
  }
  return finishProgram(draft, { composite: options.composite, canonizers: options.canonize });
}

/** A node's value: a slot of the program, or a constant. */
type Value = { slot: number } | { constant: tf.Tensor };

function addGraph(graph: GraphSource, draft: ProgramDraft): void {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const values = new Map<string, Value>();
  for (const name of graph.inputs) {
    const slot = draft.newSlot();
    draft.inputs.push(slot);
    values.set(name, { slot });
    draft.record(name, slot);
  }
  for (const node of dependencyOrder(graph.outputs[0], nodes)) {
    if (values.has(node.name)) continue;
    values.set(node.name, addNode(node, values, graph, draft));
  }
  const output = values.get(graph.outputs[0]);
  if (!output || !('slot' in output)) throw new GlassboxModelError(`lrp: the GraphModel's output "${graph.outputs[0]}" does not depend on its inputs`);
  draft.output = output.slot;
}

/** The nodes the output depends on, each after its inputs. */
function dependencyOrder(output: string, nodes: Map<string, GraphDefNode>): GraphDefNode[] {
  const order: GraphDefNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: { name: string; expanded: boolean }[] = [{ name: output, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (state.get(top.name) === 'done') continue;
    const node = nodes.get(top.name);
    if (!node) throw new GlassboxModelError(`lrp: the graph refers to a node "${top.name}" it does not contain`);
    if (top.expanded) {
      state.set(top.name, 'done');
      order.push(node);
      continue;
    }
    if (state.get(top.name) === 'visiting') throw new GlassboxModelError(`lrp: the graph has a cycle at node "${top.name}" (control flow); LRP needs a feed-forward graph`);
    state.set(top.name, 'visiting');
    stack.push({ name: top.name, expanded: true });
    for (const reference of node.input ?? []) {
      const input = parseInputReference(reference);
      if (input && state.get(input.node) !== 'done') stack.push({ name: input.node, expanded: false });
    }
  }
  return order;
}

function addNode(def: GraphDefNode, values: Map<string, Value>, graph: GraphSource, draft: ProgramDraft): Value {
  if (def.op === 'Const') {
    const constant = graph.constants[def.name]?.[0];
    if (!constant) throw new GlassboxModelError(`lrp: the GraphModel has no value for its constant node "${def.name}"`);
    return { constant };
  }
  if (def.op === 'Placeholder') throw new GlassboxModelError(`lrp: node "${def.name}" is a placeholder that is not one of the GraphModel's inputs`);
  const references = (def.input ?? []).map(parseInputReference).filter((r): r is NonNullable<typeof r> => r !== null);
  const inputs = references.map((reference) => {
    if (reference.output !== 0) {
      throw new GlassboxModelError(`lrp: node "${def.name}" (op ${def.op}) reads output ${reference.output} of "${reference.node}"; LRP supports single-output ops`);
    }
    return values.get(reference.node)!;
  });
  if (IDENTITY_OPS.has(def.op)) return inputs[0];
  const spec = lrpOpSpec(def.op);
  if (!spec) {
    throw new GlassboxModelError(
      `lrp: node "${def.name}" (op ${def.op}) is not supported by LRP. Describe the op once with ` +
        `registerLrpOp('${def.op}', { kind, forward: (inputs, node) => ... }) (e.g. kind 'activation' for an element-wise ` +
        `non-linearity), and give it a rule with options.layerRules, e.g. { byClass: { ${def.op}: rules.pass() } }, if its kind has none.`,
    );
  }
  const node: LrpGraphNode = {
    name: def.name,
    op: def.op,
    attributes: decodeAttributes(def.attr),
    inputs: inputs.map((v) => ('constant' in v ? v.constant : null)),
  };
  const slots = inputs.map((v) => ('slot' in v ? v.slot : null));
  if (slots.every((s) => s === null)) {
    if (!spec.forward) throw new GlassboxModelError(`lrp: node "${def.name}" (op ${def.op}) has only constant inputs and no forward pass to evaluate them`);
    return { constant: draft.own(tf.tidy(() => spec.forward!(node.inputs as tf.Tensor[], node))) };
  }
  const builder: LrpBuilder = {
    add: (step) => draft.push(stepFromSpec(step, { name: def.name, className: def.op, node })),
    layer: () => {
      throw new GlassboxModelError(`lrp: op descriptions cannot add tfjs layers (node "${def.name}")`);
    },
    own: (tensor) => draft.own(tensor),
    inputShapes: [],
  };
  const slot = spec.expand
    ? spec.expand(node, builder, slots)
    : builder.add({
        inputs: slots.filter((s): s is number => s !== null),
        kind: spec.kind ?? null,
        rule: spec.rule,
        forward: (xs) => {
          let next = 0;
          return spec.forward!(node.inputs.map((c) => c ?? xs[next++]), node);
        },
      });
  draft.record(def.name, slot);
  return { slot };
}
