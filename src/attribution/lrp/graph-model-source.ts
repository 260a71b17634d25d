/**
 * Reading the graph of a loaded `tf.GraphModel`: the one place that knows how. Everything here goes
 * through the GraphModel's public, documented surface:
 *
 * - `model.save(tf.io.withSaveHandler(...))` hands over the model's artifacts, whose `modelTopology` is
 *   the TensorFlow GraphDef as JSON (`node: [{ name, op, input, attr }]`) exactly as in `model.json`;
 * - `model.weights` maps every constant node's name to its value (the tensors the model itself uses);
 * - `model.inputs` / `model.outputs` name the graph's placeholder and output nodes.
 *
 * The package imports nothing from `@tensorflow/tfjs-converter` (it is not a dependency): a GraphModel
 * is recognised by its shape ({@link GraphModelLike}).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxModelError } from '../../core/errors';

/** The part of a `tf.GraphModel` (tfjs-converter) that LRP reads. */
export interface GraphModelLike {
  /** The graph's input (placeholder) nodes. */
  readonly inputs: readonly {
    /** The node's name (`'input_1'`, or `'input_1:0'` with an output index). */
    name: string;
    /** The input's static shape, where the graph declares one. */
    shape?: number[];
  }[];
  /** The graph's output nodes. */
  readonly outputs: readonly {
    /** The node's name (with or without a `:index` suffix). */
    name: string;
  }[];
  /** The value of every constant node (the model's weights), by node name. */
  readonly weights: { [name: string]: tf.Tensor[] };
  /** Hands the model's artifacts to `handler`; LRP reads the GraphDef from `modelTopology`. */
  save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult>;
  /** Runs the graph (only checked for, to tell a GraphModel from other objects with `save`). */
  executeAsync(inputs: tf.Tensor | tf.Tensor[]): Promise<unknown>;
}

/** Is `value` a loaded tfjs-converter GraphModel (not a LayersModel)? */
export function isGraphModel(value: unknown): value is GraphModelLike {
  if (value === null || typeof value !== 'object' || value instanceof tfl.LayersModel) return false;
  const model = value as Partial<Record<keyof GraphModelLike, unknown>>;
  return (
    typeof model.save === 'function' &&
    typeof model.executeAsync === 'function' &&
    Array.isArray(model.inputs) &&
    Array.isArray(model.outputs) &&
    model.weights !== null &&
    typeof model.weights === 'object' &&
    !Array.isArray(model.weights)
  );
}

/** A node of the GraphDef as it is stored in `model.json`. */
export interface GraphDefNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

/** A GraphDef attribute value as JSON (TensorFlow's `AttrValue` message). */
interface AttrValue {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  list?: { i?: (string | number)[]; f?: number[]; s?: string[]; b?: boolean[]; type?: string[] };
}

/** The graph of a GraphModel: its nodes, input and output node names, and constant values. */
export interface GraphSource {
  nodes: GraphDefNode[];
  inputs: string[];
  outputs: string[];
  constants: { [name: string]: tf.Tensor[] };
}

/** Reads the GraphDef of `model` (see the module description). */
export async function readGraph(model: GraphModelLike): Promise<GraphSource> {
  let topology: unknown;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      topology = artifacts.modelTopology;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const nodes = (topology as { node?: GraphDefNode[] } | undefined)?.node;
  if (!Array.isArray(nodes)) {
    throw new GlassboxModelError('lrp: the GraphModel did not hand over a GraphDef (model.save gave no modelTopology.node); is it a graph-model?');
  }
  return {
    nodes,
    inputs: model.inputs.map((input) => nodeName(input.name)),
    outputs: model.outputs.map((output) => nodeName(output.name)),
    constants: model.weights,
  };
}

/** `'name:0'` → `'name'`. */
export function nodeName(tensorName: string): string {
  return tensorName.replace(/:\d+$/, '');
}

/** An input reference `'name'`, `'name:k'` or `'^name'` (control dependency, `null`). */
export function parseInputReference(reference: string): { node: string; output: number } | null {
  if (reference.startsWith('^')) return null;
  const match = /^(.*):(\d+)$/.exec(reference);
  return match ? { node: match[1], output: Number(match[2]) } : { node: reference, output: 0 };
}

/** The attributes of a node, decoded: numbers, booleans, strings, shapes and lists of them. */
export function decodeAttributes(attr: Record<string, AttrValue> | undefined): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attr ?? {})) decoded[key] = decodeAttribute(value);
  return decoded;
}

function decodeAttribute(value: AttrValue): unknown {
  if (value.i !== undefined) return Number(value.i);
  if (value.f !== undefined) return Number(value.f);
  if (value.b !== undefined) return value.b;
  if (value.s !== undefined) return decodeString(value.s);
  if (value.type !== undefined) return value.type;
  if (value.shape !== undefined) return (value.shape.dim ?? []).map((d) => Number(d.size ?? -1));
  if (value.list !== undefined) {
    const { i, f, s, b, type } = value.list;
    if (i) return i.map(Number);
    if (f) return f.map(Number);
    if (s) return s.map(decodeString);
    if (b) return b;
    if (type) return type;
    return [];
  }
  return undefined;
}

/** GraphDef JSON stores strings base64-encoded. */
function decodeString(base64: string): string {
  return atob(base64);
}
