/**
 * Runs a compiled {@link Program}: the forward pass, then relevance backwards step by step, each step
 * applying its rule. All work is plain tfjs ops on the active backend; call inside `tf.tidy`.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxModelError } from '../../core/errors';
import type { Program, Step } from './graph';
import type { LinearParameters } from './layer-catalogue';
import { keepInput, keepParameters, type BasicRule, type ParameterModifier } from './rules';

/** The value of every slot for the batch `x` (slots not computed stay undefined). */
export function forwardValues(program: Program, x: tf.Tensor): tf.Tensor[] {
  const values: tf.Tensor[] = new Array(program.numSlots);
  values[program.input] = x;
  for (const step of program.steps) {
    values[step.output] = step.forward(
      step.inputs.map((s) => values[s]),
      step.parameters,
    );
  }
  return values;
}

/**
 * Propagates `outputRelevance` (shaped like the output slot) back to `slot` and returns the relevance
 * there: the sum over every path, each step applying its rule.
 */
export function propagateRelevance(program: Program, values: tf.Tensor[], outputRelevance: tf.Tensor, slot: number): tf.Tensor {
  const relevance: (tf.Tensor | undefined)[] = new Array(program.numSlots);
  relevance[program.output] = outputRelevance;
  const stop = program.steps.findIndex((s) => s.output === slot);
  for (let i = program.steps.length - 1; i > stop; i--) {
    const step = program.steps[i];
    const r = relevance[step.output];
    if (r === undefined) continue;
    const inputs = step.inputs.map((s) => values[s]);
    const perInput = applyRule(step, inputs, values[step.output], r);
    step.inputs.forEach((s, k) => {
      const previous = relevance[s];
      relevance[s] = previous === undefined ? perInput[k] : tf.add(previous, perInput[k]);
    });
  }
  return relevance[slot] ?? tf.zerosLike(values[slot]);
}

/** The relevance at each input of `step` given the relevance `r` at its output. */
function applyRule(step: Step, inputs: tf.Tensor[], output: tf.Tensor, r: tf.Tensor): tf.Tensor[] {
  const { rule } = step;
  switch (rule.kind) {
    case 'gradient':
      return vectorJacobian(step, inputs, step.parameters, r);
    case 'pass':
      if (inputs.length !== 1 || !tf.util.arraysEqual(inputs[0].shape, r.shape)) {
        throw new GlassboxModelError(
          `lrp: the pass rule at layer "${step.label}" needs one input shaped like the output ` +
            `([${r.shape.join(', ')}]), got ${inputs.map((t) => `[${t.shape.join(', ')}]`).join(', ')}; give the layer another rule`,
        );
      }
      return [r];
    case 'basic':
      return applyBasicRule(step, rule, inputs, output, r);
  }
}

/**
 * Zennit's BasicHook: branch inputs and parameters, branch outputs, mapped gradients, vector–Jacobian
 * products, reduction, for every input of the layer.
 */
function applyBasicRule(step: Step, rule: BasicRule, inputs: tf.Tensor[], output: tf.Tensor, r: tf.Tensor): tf.Tensor[] {
  const branches = rule.inputModifiers.map((modifyInput, b) => {
    const modifyParameters = rule.parameterModifiers[b];
    const parameters = modifiedParameters(step.parameters, modifyParameters);
    const unchanged = modifyInput === keepInput && modifyParameters === keepParameters;
    const branchInputs = unchanged ? inputs : inputs.map((x) => modifyInput(x));
    return { inputs: branchInputs, parameters, output: unchanged ? output : step.forward(branchInputs, parameters) };
  });
  const gradients = rule.gradientMapper(
    r,
    branches.map((b) => b.output),
  );
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

function modifiedParameters(parameters: LinearParameters | null, modify: ParameterModifier): LinearParameters | null {
  if (parameters === null || modify === keepParameters) return parameters;
  return { weight: modify(parameters.weight, 'weight'), bias: parameters.bias === null ? null : modify(parameters.bias, 'bias') };
}

/**
 * `(∂z/∂x_k)ᵀ dy` for every input `x_k` of the step, with the given parameters. An error in the forward
 * pass is rethrown after tfjs has finished (and freed) its tape.
 */
function vectorJacobian(step: Step, inputs: tf.Tensor[], parameters: LinearParameters | null, dy: tf.Tensor): tf.Tensor[] {
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
