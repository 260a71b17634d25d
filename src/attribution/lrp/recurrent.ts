/**
 * LRP descriptions of tfjs's recurrent layers (SimpleRNN, LSTM, GRU) and the wrappers Bidirectional
 * and TimeDistributed. A recurrent layer is unrolled over its (static) time steps into linear steps,
 * activations, sums and gated products, following Arras et al. (2017, "Explaining recurrent neural
 * network predictions in sentiment analysis"):
 *
 * - the pre-activations `[x_t, h_{t−1}] · [W; U] + b` are linear steps (the composite's Dense rule,
 *   Epsilon in most composites), so relevance splits between the input and the previous state;
 * - at every multiplicative gate (LSTM: `f ⊙ c_{t−1}`, `i ⊙ g`, `o ⊙ tanh(c_t)`; GRU: `r ⊙ h_{t−1}`,
 *   `z ⊙ h_{t−1}`, `(1 − z) ⊙ h̃`) the gate gets no relevance and the signal takes all
 *   (`rules.signalTakeAll`), so the gates' pre-activations never receive relevance;
 * - `c_t = f ⊙ c_{t−1} + i ⊙ g` and `h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃` split by contribution (Norm),
 *   activations pass relevance unchanged, and the zero initial states absorb none.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxModelError } from '../../core/errors';
import { activationForward, denseForward, layerWeight } from './builtin-layers';
import { registerLrpLayer, type LrpBuilder } from './layer-catalogue';
import { transposeOfDense } from './linear-transposes';

type Cell = 'SimpleRNN' | 'LSTM' | 'GRU';

/** The static number of time steps of a `[N, T, ...]` input. */
function timeSteps(layer: tfl.layers.Layer, builder: LrpBuilder): number {
  const steps = builder.inputShapes[0]?.[1];
  if (typeof steps !== 'number') {
    throw new GlassboxModelError(`lrp: layer "${layer.name}" (${layer.getClassName()}) needs a known number of time steps (an input shape [T, features]) to be unrolled`);
  }
  return steps;
}

/** Helpers for the steps of one recurrent layer at one time step. */
function stepAdder(builder: LrpBuilder, t: number) {
  const part = (name: string): string => `t${t}/${name}`;
  return {
    slice: (input: number, start: number, size: number, name: string): number =>
      builder.add({ inputs: [input], kind: 'structural', part: part(name), className: 'Slice', forward: ([v]) => tf.slice(v, [0, start], [-1, size]) }),
    concat: (inputs: number[], name: string): number =>
      builder.add({ inputs, kind: 'concatenate', part: part(name), className: 'Concatenate', forward: (vs) => tf.concat(vs, -1) }),
    linear: (input: number, weight: tf.Tensor, bias: tf.Tensor | null, name: string): number =>
      builder.add({ inputs: [input], kind: 'dense', part: part(name), parameters: { weight, bias }, forward: ([v], p) => denseForward(v, p!), transpose: transposeOfDense(), scaleOutputs: (w, s) => tf.mul(w, s) }),
    activation: (input: number, activation: string, name: string): number => {
      const apply = activationForward(activation);
      return builder.add({ inputs: [input], kind: 'activation', part: part(name), className: 'Activation', activation, forward: ([v]) => apply(v) });
    },
    /** `gate ⊙ signal`: the gate gets no relevance. */
    gated: (gate: number, signal: number, name: string): number =>
      builder.add({ inputs: [gate, signal], kind: 'multiply', part: part(name), className: 'Multiply', gates: [true, false], forward: ([g, s]) => tf.mul(g, s) }),
    sum: (a: number, b: number, name: string): number =>
      builder.add({ inputs: [a, b], kind: 'add', part: part(name), className: 'Add', forward: ([u, v]) => tf.add(u, v) }),
  };
}

/** Unrolls a SimpleRNN, LSTM or GRU layer on the sequence in slot `x`; returns its output slot. */
function unroll(cell: Cell, layer: tfl.layers.Layer, builder: LrpBuilder, x: number): number {
  const config = layer.getConfig();
  if (config.returnState) throw new GlassboxModelError(`lrp: layer "${layer.name}" returns its states (returnState); LRP supports single-output layers`);
  if (config.stateful) throw new GlassboxModelError(`lrp: layer "${layer.name}" is stateful; LRP needs a stateless recurrent layer`);
  const steps = timeSteps(layer, builder);
  const units = Number(config.units);
  const activation = String(config.activation ?? 'tanh');
  const recurrentActivation = String(config.recurrentActivation ?? 'hardSigmoid');
  const kernel = layerWeight(layer, 'kernel');
  const recurrent = layerWeight(layer, 'recurrent_kernel');
  const bias = config.useBias === false ? null : layerWeight(layer, 'bias');
  const stacked = (columns: [number, number] | null): tf.Tensor =>
    builder.own(
      tf.tidy(() =>
        columns === null
          ? tf.concat([kernel, recurrent], 0)
          : tf.concat([tf.slice(kernel, [0, columns[0]], [-1, columns[1]]), tf.slice(recurrent, [0, columns[0]], [-1, columns[1]])], 0),
      ),
    );
  const biasPart = (columns: [number, number] | null): tf.Tensor | null =>
    bias === null ? null : columns === null ? bias : builder.own(tf.slice(bias, [columns[0]], [columns[1]]));
  const zeros = builder.add({ inputs: [x], kind: null, part: 'initial-state', className: 'Zeros', constant: true, forward: ([v]) => tf.zeros([v.shape[0], units]) });
  const order = Array.from({ length: steps }, (_, t) => (config.goBackwards ? steps - 1 - t : t));
  // GRU: the gates z, r from [x, h], the candidate from [x, r ⊙ h] (tfjs's implementation 2).
  const gateWeight = cell === 'GRU' ? stacked([0, 2 * units]) : stacked(null);
  const gateBias = cell === 'GRU' ? biasPart([0, 2 * units]) : biasPart(null);
  const candidateWeight = cell === 'GRU' ? stacked([2 * units, units]) : null;
  const candidateBias = cell === 'GRU' ? biasPart([2 * units, units]) : null;
  let h = zeros;
  let c = zeros;
  const outputs: number[] = [];
  order.forEach((time, t) => {
    const add = stepAdder(builder, t);
    const input = builder.add({
      inputs: [x],
      kind: 'structural',
      part: `t${t}/input`,
      className: 'Slice',
      forward: ([v]) => tf.squeeze(tf.slice(v, [0, time, 0], [-1, 1, -1]), [1]),
    });
    const z = add.linear(add.concat([input, h], 'concat'), gateWeight, gateBias, cell === 'GRU' ? 'gates' : 'linear');
    if (cell === 'SimpleRNN') {
      h = add.activation(z, activation, 'activation');
    } else if (cell === 'LSTM') {
      const i = add.activation(add.slice(z, 0, units, 'i'), recurrentActivation, 'input-gate');
      const f = add.activation(add.slice(z, units, units, 'f'), recurrentActivation, 'forget-gate');
      const g = add.activation(add.slice(z, 2 * units, units, 'g'), activation, 'candidate');
      const o = add.activation(add.slice(z, 3 * units, units, 'o'), recurrentActivation, 'output-gate');
      c = add.sum(add.gated(f, c, 'forget'), add.gated(i, g, 'write'), 'cell');
      h = add.gated(o, add.activation(c, activation, 'cell-activation'), 'output');
    } else {
      const update = add.activation(add.slice(z, 0, units, 'z'), recurrentActivation, 'update-gate');
      const reset = add.activation(add.slice(z, units, units, 'r'), recurrentActivation, 'reset-gate');
      const resetState = add.gated(reset, h, 'reset');
      const candidate = add.activation(add.linear(add.concat([input, resetState], 'candidate-concat'), candidateWeight!, candidateBias, 'candidate'), activation, 'candidate-activation');
      const keep = builder.add({ inputs: [update], kind: 'activation', part: `t${t}/one-minus-update`, className: 'Subtract', forward: ([u]) => tf.sub(1, u) });
      h = add.sum(add.gated(update, h, 'carry'), add.gated(keep, candidate, 'update'), 'state');
    }
    outputs.push(h);
  });
  if (!config.returnSequences) return h;
  return builder.add({ inputs: outputs, kind: 'concatenate', part: 'sequence', className: 'Stack', forward: (hs) => tf.stack(hs, 1) });
}

/**
 * Registers the descriptions of tfjs's recurrent layers and wrappers. Called once by the LayersModel
 * compiler (an explicit call rather than a side-effect import, so that bundlers keep it).
 */
export function registerRecurrentLayers(): void {
  for (const cell of ['SimpleRNN', 'LSTM', 'GRU'] as const) {
    registerLrpLayer(cell, { expand: (layer, builder, [x]) => unroll(cell, layer, builder, x) });
  }

  /** Bidirectional: both directions unrolled, the backward sequence reversed, then merged (concat, sum, mul or ave). */
  registerLrpLayer('Bidirectional', {
    expand(layer, builder, [x]) {
      // tfjs keeps the two directions in fields its typings mark private.
      const { forwardLayer, backwardLayer, mergeMode } = layer as unknown as { forwardLayer: tfl.layers.Layer; backwardLayer: tfl.layers.Layer; mergeMode: string | null };
      const returnSequences = Boolean(forwardLayer.getConfig().returnSequences);
      const forward = builder.layer(forwardLayer, [x]);
      let backward = builder.layer(backwardLayer, [x]);
      if (returnSequences) {
        backward = builder.add({ inputs: [backward], kind: 'structural', part: 'reverse', className: 'Reverse', forward: ([v]) => tf.reverse(v, 1) });
      }
      const inputs = [forward, backward];
      switch (mergeMode) {
        case 'concat':
          return builder.add({ inputs, kind: 'concatenate', part: 'merge', className: 'Concatenate', forward: (vs) => tf.concat(vs, -1) });
        case 'sum':
          return builder.add({ inputs, kind: 'add', part: 'merge', className: 'Add', forward: ([a, b]) => tf.add(a, b) });
        case 'ave':
          return builder.add({ inputs, kind: 'add', part: 'merge', className: 'Average', forward: ([a, b]) => tf.div(tf.add(a, b), 2) });
        case 'mul':
          return builder.add({ inputs, kind: 'multiply', part: 'merge', className: 'Multiply', forward: ([a, b]) => tf.mul(a, b) });
        default:
          throw new GlassboxModelError(`lrp: layer "${layer.name}" (Bidirectional) has mergeMode ${String(mergeMode)}; LRP needs one output (concat, sum, mul or ave)`);
      }
    },
  });

  /** TimeDistributed: time folded into the batch, the wrapped layer's steps, time unfolded again. */
  registerLrpLayer('TimeDistributed', {
    expand(layer, builder, [x]) {
      const inner = (layer as unknown as { layer: tfl.layers.Layer }).layer;
      const shape = builder.inputShapes[0];
      const steps = timeSteps(layer, builder);
      const merged = builder.add({ inputs: [x], kind: 'structural', part: 'merge-time', className: 'Reshape', forward: ([v]) => tf.reshape(v, [-1, ...v.shape.slice(2)]) });
      const y = builder.layer(inner, [merged], [[null, ...(shape ?? []).slice(2)]]);
      return builder.add({ inputs: [y], kind: 'structural', part: 'split-time', className: 'Reshape', forward: ([v]) => tf.reshape(v, [-1, steps, ...v.shape.slice(1)]) });
    },
  });
}
