/**
 * Runs a compiled {@link Program}: the forward pass, then relevance backwards step by step, each step
 * applying its rule. All work is plain tfjs ops on the active backend; call inside `tf.tidy`.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxModelError } from '../../core/errors';
import { addAll } from './elementwise';
import type { LinearParameters } from './layer-catalogue';
import type { Program, Step } from './program';
import { divideStabilized, keepInput, keepParameters, type BasicRule, type InputModifier, type ProductRule } from './rules';

/** The value of every slot for the batch `x` (one tensor per model input); slots not computed stay undefined. */
export function forwardValues(program: Program, x: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] {
  const inputs = x instanceof tf.Tensor ? [x] : x;
  if (inputs.length !== program.inputs.length) {
    throw new GlassboxModelError(`lrp: the program has ${program.inputs.length} inputs, got ${inputs.length} tensors`);
  }
  const values: tf.Tensor[] = new Array(program.numSlots);
  program.inputs.forEach((slot, i) => (values[slot] = inputs[i]));
  for (const step of program.steps) {
    values[step.output] = step.forward(
      step.inputs.map((s) => values[s]),
      step.parameters,
    );
  }
  return values;
}

/**
 * Propagates `outputRelevance` (shaped like the output slot) back and returns the relevance at each of
 * `slots`: the sum over every path, each step applying its rule (zeros where none arrives).
 *
 * Each step's rule runs in its own `tf.tidy`, and the relevance and the values of a step's output are
 * freed once the step is done (unless they are returned, or are the caller's `outputRelevance` or the
 * program's inputs): the working set is the forward values plus one step's branches, not every branch
 * of every step. `values` (from {@link forwardValues}) is consumed.
 */
export function propagateRelevance(program: Program, values: (tf.Tensor | undefined)[], outputRelevance: tf.Tensor, slots: readonly number[]): tf.Tensor[] {
  const relevance: (tf.Tensor | undefined)[] = new Array(program.numSlots);
  relevance[program.output] = outputRelevance;
  const kept = new Set([...slots, ...program.inputs]);
  // Frees `tensor` unless a slot or a pending share still refers to it (pass rules and identity layers share tensors).
  const release = (tensor: tf.Tensor | undefined, pending: readonly (tf.Tensor | null)[] = []): void => {
    if (tensor !== undefined && tensor !== outputRelevance && !pending.includes(tensor) && !relevance.includes(tensor) && !values.includes(tensor)) {
      tensor.dispose();
    }
  };
  const producers = slots.map((slot) => program.steps.findIndex((s) => s.output === slot));
  const stop = Math.min(...producers.map((index) => (index < 0 ? -1 : index)));
  for (let i = program.steps.length - 1; i > stop; i--) {
    const step = program.steps[i];
    const r = relevance[step.output];
    if (r !== undefined && !step.constant) {
      const inputs = step.inputs.map((s) => values[s]!);
      const perInput = tf.tidy(() => applyRule(step, inputs, values[step.output]!, r) as tf.Tensor[]) as (tf.Tensor | null)[];
      step.inputs.forEach((s, k) => {
        const share = perInput[k];
        if (share === null) return;
        const previous = relevance[s];
        relevance[s] = previous === undefined ? share : addAll([previous, share]);
        if (previous !== undefined) {
          release(previous);
          release(share, perInput.slice(k + 1));
        }
      });
    }
    if (kept.has(step.output)) continue;
    relevance[step.output] = undefined;
    release(r);
    const value = values[step.output];
    values[step.output] = undefined;
    release(value);
  }
  return slots.map((slot) => relevance[slot] ?? tf.zerosLike(values[slot]!));
}

/** The relevance at each input of `step` given the relevance `r` at its output (`null`: none). */
function applyRule(step: Step, inputs: tf.Tensor[], output: tf.Tensor, r: tf.Tensor): (tf.Tensor | null)[] {
  const { rule } = step;
  switch (rule.kind) {
    case 'gradient':
      return vectorJacobian(step, inputs, step.parameters, r);
    case 'pass':
      return [passRelevance(step, inputs[0], r)];
    case 'product':
      return productRelevance(step, rule, inputs, output, r);
    case 'basic':
      return applyBasicRule(step, rule, inputs, output, r);
  }
}

/** `R` unchanged, summed over the trailing axes the input lacks (token ids of an Embedding). */
function passRelevance(step: Step, input: tf.Tensor, r: tf.Tensor): tf.Tensor {
  if (tf.util.arraysEqual(input.shape, r.shape)) return r;
  const prefix = input.rank < r.rank && tf.util.arraysEqual(input.shape, r.shape.slice(0, input.rank));
  if (!prefix) {
    throw new GlassboxModelError(
      `lrp: the pass rule at layer "${step.label}" needs one input shaped like the output ` +
        `([${r.shape.join(', ')}]), got [${input.shape.join(', ')}]; give the layer another rule`,
    );
  }
  return tf.sum(r, Array.from({ length: r.rank - input.rank }, (_, i) => input.rank + i));
}

/** SignalTakeAll: gates get nothing, each of the `m` signals `x_k ⊙ (∂z/∂x_k)ᵀ[R / s(z)] / m`. */
function productRelevance(step: Step, rule: ProductRule, inputs: tf.Tensor[], output: tf.Tensor, r: tf.Tensor): (tf.Tensor | null)[] {
  const marked = inputs.map((_, k) => step.gates?.[k] === true);
  const signals = marked.every(Boolean) ? marked.map(() => true) : marked.map((gate) => !gate);
  const count = signals.filter(Boolean).length;
  const products = vectorJacobian(step, inputs, step.parameters, divideStabilized(r, output, rule.stabilizer));
  return inputs.map((x, k) => (signals[k] ? tf.div(tf.mul(x, products[k]), count) : null));
}

/**
 * Zennit's BasicHook: branch inputs and parameters, branch outputs, mapped gradients, vector–Jacobian
 * products, reduction, for every input of the layer. An input modifier shared by several branches runs
 * once; a branch with the layer's own input and parameters reuses its output; a `gradientOnly` branch
 * runs no forward pass.
 */
function applyBasicRule(step: Step, rule: BasicRule, inputs: tf.Tensor[], output: tf.Tensor, r: tf.Tensor): tf.Tensor[] {
  const modified = new Map<InputModifier, tf.Tensor[]>();
  const modify = (modifyInput: InputModifier): tf.Tensor[] => {
    let branchInputs = modified.get(modifyInput);
    if (branchInputs === undefined) modified.set(modifyInput, (branchInputs = inputs.map((x) => modifyInput(x))));
    return branchInputs;
  };
  const branches = rule.inputModifiers.map((modifyInput, b) => {
    const modifyParameters = rule.parameterModifiers[b];
    // Linear steps: the branch parameters modified at compile time; other steps have none.
    const parameters = step.branchParameters?.[b] ?? step.parameters;
    const unchanged = modifyInput === keepInput && modifyParameters === keepParameters;
    const branchInputs = unchanged ? inputs : modify(modifyInput);
    const skipped = rule.gradientOnly?.includes(b) === true;
    return { inputs: branchInputs, parameters, output: unchanged ? output : skipped ? undefined : step.forward(branchInputs, parameters) };
  });
  // The places of gradient-only branches stay empty.
  const outputs: tf.Tensor[] = [];
  branches.forEach((branch, b) => {
    if (branch.output !== undefined) outputs[b] = branch.output;
  });
  const gradients = rule.gradientMapper(r, outputs);
  const products = branches.map((branch, b) => {
    const g = gradients[b];
    return g === null || g === undefined ? null : vectorJacobian(step, branch.inputs, branch.parameters, g);
  });
  return inputs.map((_, k) =>
    rule.reducer(
      branches.map((branch) => branch.inputs[k]),
      products.map((p) => (p === null ? null : p[k])),
    ),
  );
}

/**
 * `(∂z/∂x_k)ᵀ dy` for every input `x_k` of the step, with the given parameters: for a linear step with
 * a transpose, that transpose applied to `dy` (it does not depend on `x`); otherwise `tf.grads` of the
 * step's forward pass. An error in the forward pass is rethrown after tfjs has finished (and freed) its
 * tape.
 */
function vectorJacobian(step: Step, inputs: tf.Tensor[], parameters: LinearParameters | null, dy: tf.Tensor): tf.Tensor[] {
  if (step.transpose !== undefined && parameters !== null) return [step.transpose(dy, parameters, inputs[0].shape)];
  let failure: { error: unknown } | null = null;
  const products = tf.grads((...xs: tf.Tensor[]) => {
    try {
      const z = step.forward(xs, parameters);
      // Identity layers (Dropout at inference) return their input, which tfjs cannot differentiate.
      return xs.includes(z) ? tf.clone(z) : z;
    } catch (error) {
      failure = { error };
      const anchor = tf.mul(xs.map((x) => tf.sum(x)).reduce((a, b) => tf.add(a, b)), 0);
      return tf.add(tf.zerosLike(dy), anchor);
    }
  })(inputs, dy);
  if (failure !== null) {
    products.forEach((p) => p.dispose());
    throw (failure as { error: unknown }).error;
  }
  return products;
}
