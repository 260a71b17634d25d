/**
 * LRP rules as data (Zennit's pattern, Anders et al. 2021): a rule is a list of branches, each an input
 * modifier and a parameter modifier, plus a gradient mapper and a reducer. For a layer `z = f(x; W, b)`
 * and the relevance `R` arriving at its output, the executor computes for every branch `k`
 * `x_k = inputModifier_k(x)`, `θ_k = parameterModifier_k(W, b)`, `z_k = f(x_k; θ_k)`, then
 * `g = gradientMapper(R, [z_0, z_1, ...])`, the vector–Jacobian products `v_k = (∂z_k/∂x_k)ᵀ g_k`, and
 * finally `R_in = reducer([x_0, x_1, ...], [v_0, v_1, ...])`. A branch whose gradient is `null` takes
 * no product (it only supplies an output); a branch listed in `gradientOnly` supplies no output (only
 * its product). On layers with weights a rule may run in an equivalent, cheaper form
 * (`withParameters`), on non-negative inputs in a form without the `x⁻` branches (`nonNegativeInput`).
 *
 * Every denominator is stabilised as `s(z) = z + ε·sign(z)` with `sign(0) = +1` (default ε = 1e−6).
 * References: Bach et al. 2015 (LRP), Montavon et al. 2019 ("Layer-wise relevance propagation: an
 * overview"), Anders et al. 2021 (Zennit).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { renamedOption } from '../../core/deprecation';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { assertNumberInRange } from '../../core/validate';
import { addAll, signOf } from './elementwise';

/** Which parameter a {@link ParameterModifier} is given. */
export type ParameterRole = 'weight' | 'bias';
/** Maps a layer input to the input of one rule branch. */
export type InputModifier = (input: tf.Tensor) => tf.Tensor;
/** Maps a layer parameter (weight or bias) to the parameter of one rule branch. */
export type ParameterModifier = (parameter: tf.Tensor, role: ParameterRole) => tf.Tensor;
/**
 * Maps the output relevance and the branch outputs to one gradient per branch (`null`: branch unused).
 * The places of a rule's `gradientOnly` branches in `outputs` are empty.
 */
export type GradientMapper = (relevance: tf.Tensor, outputs: readonly tf.Tensor[]) => (tf.Tensor | null)[];
/** Combines the branch inputs and their vector–Jacobian products into the input relevance. */
export type Reducer = (inputs: readonly tf.Tensor[], gradients: readonly (tf.Tensor | null)[]) => tf.Tensor;

/** A rule made of branches (see the module description). */
export interface BasicRule {
  /** Tells the rule kinds apart. */
  readonly kind: 'basic';
  /** Name shown in error messages, e.g. `'epsilon(0.25)'`. */
  readonly name: string;
  /** One input modifier per branch (as many as `parameterModifiers`). */
  readonly inputModifiers: readonly InputModifier[];
  /** One parameter modifier per branch. */
  readonly parameterModifiers: readonly ParameterModifier[];
  /** The gradient of each branch from the output relevance and the branch outputs `z_k`. */
  readonly gradientMapper: GradientMapper;
  /** The input relevance from the branch inputs `x_k` and their vector–Jacobian products `v_k`. */
  readonly reducer: Reducer;
  /**
   * Branches whose outputs the gradient mapper does not read: their forward passes are skipped (their
   * places in the mapper's `outputs` are empty); they only take vector–Jacobian products.
   */
  readonly gradientOnly?: readonly number[];
  /**
   * The same rule for a layer whose input is known to be ≥ 0 (the output of a ReLU, pooled, padded or
   * concatenated): there `x⁺ = x` and `x⁻ = 0`, so the branches of `x⁻` vanish and this form has fewer
   * branches and gives the same relevance. The LRP compiler uses it where the program's structure
   * proves the input non-negative (ZPlus, AlphaBeta and Gamma have one).
   */
  readonly nonNegativeInput?: BasicRule;
  /**
   * The same rule on steps with parameters (Dense, convolutions), rewritten by the linearity of
   * `z = f(x; W) + b` in `W` and `x` into fewer forward passes and element-wise kernels (e.g. with
   * `t = |W||x| + |b|`, `W⁺x⁺ + W⁻x⁻ + b⁺ = (z + t)/2`; constant factors folded into the branch
   * weights). Parameter modifiers act on parameter-free steps not at all, so there the rule runs as
   * written. The LRP compiler uses this form on every step with parameters.
   */
  readonly withParameters?: BasicRule;
}

/**
 * Relevance passes through the layer unchanged: one input shaped like the output, or (token ids of an
 * Embedding) an input whose shape is the output's leading axes, which gets the relevance summed over
 * the extra axes.
 */
export interface PassRule {
  /** Tells the rule kinds apart. */
  readonly kind: 'pass';
  /** Name shown in error messages. */
  readonly name: 'pass';
}

/**
 * Products (see {@link rules}.signalTakeAll): the inputs marked as gates get no relevance; the other
 * inputs, the signals, share it.
 */
export interface ProductRule {
  /** Tells the rule kinds apart. */
  readonly kind: 'product';
  /** Name shown in error messages. */
  readonly name: 'signalTakeAll';
  /** ε of the stabiliser `s(z)`. */
  readonly stabilizer: number;
}

/** The plain gradient: relevance is routed like a gradient (max pooling, reshapes, concatenation). */
export interface GradientDefinition {
  /** Tells the rule kinds apart. */
  readonly kind: 'gradient';
  /** Name shown in error messages. */
  readonly name: 'gradient';
}

/** An LRP rule: attach one to a layer through a composite. */
export type Rule = BasicRule | PassRule | GradientDefinition | ProductRule;

/** Is `value` a {@link Rule}? */
export function isRule(value: unknown): value is Rule {
  if (value === null || typeof value !== 'object') return false;
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'pass' || kind === 'gradient') return true;
  if (kind === 'product') return typeof (value as { stabilizer?: unknown }).stabilizer === 'number';
  const rule = value as Partial<BasicRule>;
  return (
    kind === 'basic' &&
    Array.isArray(rule.inputModifiers) &&
    Array.isArray(rule.parameterModifiers) &&
    rule.inputModifiers.length === rule.parameterModifiers.length &&
    typeof rule.gradientMapper === 'function' &&
    typeof rule.reducer === 'function'
  );
}

/** The identity input modifier: the executor reuses the layer's own output for such a branch. */
export const keepInput: InputModifier = (input) => input;
/** The identity parameter modifier. */
export const keepParameters: ParameterModifier = (parameter) => parameter;

const DEFAULT_STABILIZER = 1e-6;

/**
 * `R / s(z)` with `s(z) = z + ε·sign(z)`, `sign(0) = +1`. Where `s(z) = 0` (only possible for ε = 0,
 * LRP-0) the quotient is 0: no relevance flows through a unit with zero pre-activation.
 */
export function divideStabilized(relevance: tf.Tensor, z: tf.Tensor, epsilon: number): tf.Tensor {
  if (epsilon === 0) {
    const quotient = tf.div(relevance, z);
    return tf.where(tf.equal(z, 0), tf.zerosLike(quotient), quotient);
  }
  // ε·sign(z) = −ε·step(−z, −1), step(t, −1) = 1 for t > 0, −1 otherwise: vectorised arithmetic (a
  // comparison and a cast are several times slower on wasm).
  return tf.div(relevance, addAll([z, tf.mul(tf.step(tf.mul(z, -1), -1), -epsilon)]));
}

/**
 * `R / (max(d, 0) + ε)` for a denominator `d` that is ≥ 0 in exact arithmetic (a sum of non-negative
 * contributions, here possibly derived with rounding): `s(d)` where `d ≥ 0`, and `s(0)` where rounding
 * made `d` negative. With ε = 0 the quotient is 0 where `max(d, 0)` is. `clamp: false` when `d` is
 * computed ≥ 0 exactly (a forward pass of non-negative inputs and parameters).
 */
function divideByNonNegative(relevance: tf.Tensor, d: tf.Tensor, epsilon: number, clamp = true): tf.Tensor {
  const clamped = clamp ? tf.relu(d) : d;
  if (epsilon > 0) return tf.div(relevance, addAll([clamped], epsilon));
  const quotient = tf.div(relevance, clamped);
  return tf.where(tf.equal(clamped, 0), tf.zerosLike(quotient), quotient);
}

const positive = (t: tf.Tensor): tf.Tensor => tf.relu(t);
/** `min(t, 0)`, as `t − relu(t)` (exact; `tf.minimum` with a scalar is several times slower on wasm). */
const negative = (t: tf.Tensor): tf.Tensor => tf.sub(t, tf.relu(t));
const ones: InputModifier = (input) => tf.onesLike(input);
const absoluteInput: InputModifier = (input) => tf.abs(input);
/** `|W|, |b|` */
const absoluteParameters: ParameterModifier = (parameter) => tf.abs(parameter);
const positiveInput: InputModifier = positive;
const negativeInput: InputModifier = negative;
/** `W⁺, b⁺` */
const positiveParameters: ParameterModifier = positive;
/** `W⁻, b⁻` */
const negativeParameters: ParameterModifier = negative;
/** A parameter modifier that only modifies weights (`factor·weightsOf(W)`): the bias is left out. */
export interface WeightsOnlyModifier extends ParameterModifier {
  /** The modifier applied to the weight (its result computed once per layer and shared). */
  readonly weightsOf: ParameterModifier;
  /** A constant factor of the weight, 1 if absent. */
  readonly factor?: number;
}

/** `c·modify` on the weight, bias 0 (left out): the bias is counted once per denominator. */
function weightsOnly(modify: ParameterModifier, c = 1): WeightsOnlyModifier {
  const modifier = (p: tf.Tensor, role: ParameterRole) => (role === 'bias' ? tf.zerosLike(p) : c === 1 ? modify(p, role) : tf.mul(modify(p, role), c));
  return Object.assign(modifier, { weightsOf: modify, factor: c });
}

/** Is `modify` a {@link WeightsOnlyModifier}? */
export function isWeightsOnly(modify: ParameterModifier): modify is WeightsOnlyModifier {
  return typeof (modify as Partial<WeightsOnlyModifier>).weightsOf === 'function';
}

/** `W⁺`, bias 0. */
const positiveWeightsOnly = weightsOnly(positiveParameters);
/** `W⁻`, bias 0. */
const negativeWeightsOnly = weightsOnly(negativeParameters);


/** ε of a rule: `epsilon` (or its former name `stabilizer`), default 1e−6, ≥ 0. */
function stabilizerOption(options: StabilizerOptions | undefined): number {
  const epsilon = renamedOption<number>(options, 'epsilon', 'stabilizer', 'rule options') ?? DEFAULT_STABILIZER;
  assertNumberInRange(epsilon, 'epsilon', { min: 0 });
  return epsilon;
}

function sumOfProducts(inputs: readonly tf.Tensor[], gradients: readonly (tf.Tensor | null)[], indices: number[]): tf.Tensor {
  const products = indices.map((i) => tf.mul(inputs[i], gradients[i]!));
  return addAll(products);
}

/** `x⁺ ⊙ (v_a + v_b) + x⁻ ⊙ (v_c + v_d)`, branch inputs and products at `[a, b]` (x⁺) and `[c, d]` (x⁻). */
function signedReduction(inputs: readonly tf.Tensor[], gradients: readonly (tf.Tensor | null)[], [a, b]: number[], [c, d]: number[]): tf.Tensor {
  return addAll([tf.mul(inputs[a], addAll([gradients[a]!, gradients[b]!])), tf.mul(inputs[c], addAll([gradients[c]!, gradients[d]!]))]);
}

/** Options of the rules whose only setting is the stabiliser ε. */
export interface StabilizerOptions {
  /** ε in `s(z) = z + ε·sign(z)`, the same ε in every rule. Default 1e−6. */
  epsilon?: number;
  /** @deprecated Renamed `epsilon` (one name for the stabiliser in every rule); removed in the next release. */
  stabilizer?: number;
}

/**
 * Epsilon rule (LRP-ε; ε = 0 is LRP-0): `R_in = x ⊙ Wᵀ[R / s(z)]`, `z = Wx + b` (the bias is part of `z`).
 * Bach et al. 2015.
 */
function epsilon(options: StabilizerOptions = {}): BasicRule {
  const eps = stabilizerOption(options);
  return {
    kind: 'basic',
    name: `epsilon(${eps})`,
    inputModifiers: [keepInput],
    parameterModifiers: [keepParameters],
    gradientMapper: (relevance, [z]) => [divideStabilized(relevance, z, eps)],
    reducer: (inputs, gradients) => sumOfProducts(inputs, gradients, [0]),
  };
}

/**
 * Norm rule, for parameter-free linear layers (Add, average pooling): `R_in = x ⊙ ∂z/∂xᵀ [R / s(z)]`;
 * for Add every summand receives its share `x_k ⊙ R / s(Σ x)`.
 */
function norm(options: StabilizerOptions = {}): BasicRule {
  const eps = stabilizerOption(options);
  return { ...epsilon({ epsilon: eps }), name: 'norm' };
}

/*
 * The forms on steps with parameters below rest on three facts.
 * 1. With `t = |W||x| + |b|` (one modified forward pass), the sums of same-sign contributions are
 *    `z_α = W⁺x⁺ + W⁻x⁻ + b⁺ = (z + t)/2 ≥ 0` and `z_β = W⁻x⁺ + W⁺x⁻ + b⁻ = (z − t)/2 ≤ 0`; on
 *    non-negative inputs `z_β = z − z_α`. A derived sum carries the rounding of `z` and `t`
 *    (≈ 1e−7·|W||x|), like the Epsilon rule's own `z`.
 * 2. A sum that is ≥ 0 in exact arithmetic is stabilised as `max(z_α, 0) + ε` (and `z_β` as
 *    `min(z_β, 0) − ε`): this is `s(z_α)` wherever it is > 0, and wherever a sum is 0 every contribution
 *    to it is 0, so its quotient meets only zero weights or inputs and its value does not matter.
 *    Clamping also keeps a sum that rounding pushed across 0 from dividing by nearly nothing.
 * 3. Constant factors of a product (α, β, 2 from the halves) move into the branch weights, computed
 *    once per program, instead of an element-wise multiplication per call.
 */

/**
 * ZPlus rule (z⁺, Montavon et al. 2019): `z⁺ = W⁺x⁺ + W⁻x⁻ + b⁺`,
 * `R_in = x⁺ ⊙ W⁺ᵀ r + x⁻ ⊙ W⁻ᵀ r`, `r = R / s(z⁺)`.
 */
function zPlus(options: StabilizerOptions = {}): BasicRule {
  const eps = stabilizerOption(options);
  const name = 'zPlus';
  return {
    kind: 'basic',
    name,
    inputModifiers: [positiveInput, negativeInput],
    parameterModifiers: [positiveParameters, negativeWeightsOnly],
    gradientMapper: (relevance, [zPositive, zNegative]) => {
      const r = divideStabilized(relevance, addAll([zPositive, zNegative]), eps);
      return [r, r];
    },
    reducer: (inputs, gradients) => sumOfProducts(inputs, gradients, [0, 1]),
    // z⁺ = (z + t)/2: r = 2R / (max(z + t, 0) + 2ε); the factor 2 in the branch weights.
    withParameters: {
      kind: 'basic',
      name,
      inputModifiers: [positiveInput, negativeInput, keepInput, absoluteInput],
      parameterModifiers: [weightsOnly(positiveParameters, 2), weightsOnly(negativeParameters, 2), keepParameters, absoluteParameters],
      gradientOnly: [0, 1],
      gradientMapper: (relevance, [, , z, t]) => {
        const r = divideByNonNegative(relevance, addAll([z, t]), 2 * eps);
        return [r, r, null, null];
      },
      reducer: (inputs, gradients) => sumOfProducts(inputs, gradients, [0, 1]),
    },
    // x ≥ 0: z⁺ = W⁺x + b⁺, R_in = x ⊙ W⁺ᵀr.
    nonNegativeInput: {
      kind: 'basic',
      name,
      inputModifiers: [keepInput],
      parameterModifiers: [positiveParameters],
      gradientMapper: (relevance, [zPositive]) => [divideStabilized(relevance, zPositive, eps)],
      reducer: (inputs, gradients) => sumOfProducts(inputs, gradients, [0]),
      // With W⁺, b⁺ the forward pass gives z⁺ ≥ 0 exactly.
      withParameters: {
        kind: 'basic',
        name,
        inputModifiers: [keepInput],
        parameterModifiers: [positiveParameters],
        gradientMapper: (relevance, [zPositive]) => [divideByNonNegative(relevance, zPositive, eps, false)],
        reducer: (inputs, gradients) => sumOfProducts(inputs, gradients, [0]),
      },
    },
  };
}

/** Options of {@link rules}.alphaBeta. */
export interface AlphaBetaOptions extends StabilizerOptions {
  /** Weight of the positive contributions, ≥ 1. Default 2. */
  alpha?: number;
  /** Weight of the negative contributions, ≥ 0, with α − β = 1. Default 1. */
  beta?: number;
}

/**
 * AlphaBeta rule (Bach et al. 2015), α − β = 1, α, β ≥ 0:
 * `z_α = W⁺x⁺ + W⁻x⁻ + b⁺`, `z_β = W⁻x⁺ + W⁺x⁻ + b⁻`,
 * `R_in = α(x⁺ ⊙ W⁺ᵀ r_α + x⁻ ⊙ W⁻ᵀ r_α) − β(x⁺ ⊙ W⁻ᵀ r_β + x⁻ ⊙ W⁺ᵀ r_β)`, `r_• = R / s(z_•)`.
 */
function alphaBeta(options: AlphaBetaOptions = {}): BasicRule {
  const { alpha = 2, beta = 1 } = options;
  assertNumberInRange(alpha, 'alpha', { min: 0 });
  assertNumberInRange(beta, 'beta', { min: 0 });
  if (Math.abs(alpha - beta - 1) > 1e-9) {
    throw new GlassboxArgumentError('alpha', `alpha − beta must be 1 (conservation), got alpha = ${alpha}, beta = ${beta}`);
  }
  const eps = stabilizerOption(options);
  const name = `alphaBeta(${alpha}, ${beta})`;
  return {
    kind: 'basic',
    name,
    inputModifiers: [positiveInput, negativeInput, positiveInput, negativeInput],
    parameterModifiers: [positiveParameters, negativeWeightsOnly, negativeParameters, positiveWeightsOnly],
    gradientMapper: (relevance, [a0, a1, b0, b1]) => {
      const rAlpha = divideStabilized(relevance, addAll([a0, a1]), eps);
      const rBeta = divideStabilized(relevance, addAll([b0, b1]), eps);
      return [rAlpha, rAlpha, rBeta, rBeta];
    },
    reducer: (inputs, gradients) =>
      tf.sub(tf.mul(sumOfProducts(inputs, gradients, [0, 1]), alpha), tf.mul(sumOfProducts(inputs, gradients, [2, 3]), beta)),
    // z_α = (z + t)/2, −z_β = (t − z)/2: the gradients R / (max(z ± t, 0) + 2ε) are r_α/2 and −r_β/2,
    // whose factors 2α and 2β go into the branch weights (2αW⁺, 2αW⁻ for r_α; 2βW⁻, 2βW⁺ for −r_β).
    withParameters: {
      kind: 'basic',
      name,
      inputModifiers: [positiveInput, negativeInput, positiveInput, negativeInput, keepInput, absoluteInput],
      parameterModifiers: [
        weightsOnly(positiveParameters, 2 * alpha),
        weightsOnly(negativeParameters, 2 * alpha),
        weightsOnly(negativeParameters, 2 * beta),
        weightsOnly(positiveParameters, 2 * beta),
        keepParameters,
        absoluteParameters,
      ],
      gradientOnly: [0, 1, 2, 3],
      gradientMapper: (relevance, [, , , , z, t]) => {
        const rAlpha = divideByNonNegative(relevance, addAll([z, t]), 2 * eps);
        const minusRBeta = divideByNonNegative(relevance, tf.sub(t, z), 2 * eps);
        return [rAlpha, rAlpha, minusRBeta, minusRBeta, null, null];
      },
      reducer: (inputs, gradients) => signedReduction(inputs, gradients, [0, 2], [1, 3]),
    },
    // x ≥ 0: z_α = W⁺x + b⁺, z_β = W⁻x + b⁻, R_in = α x ⊙ W⁺ᵀr_α − β x ⊙ W⁻ᵀr_β.
    nonNegativeInput: {
      kind: 'basic',
      name,
      inputModifiers: [keepInput, keepInput],
      parameterModifiers: [positiveParameters, negativeParameters],
      gradientMapper: (relevance, [zAlpha, zBeta]) => [divideStabilized(relevance, zAlpha, eps), divideStabilized(relevance, zBeta, eps)],
      reducer: (inputs, gradients) =>
        tf.sub(tf.mul(sumOfProducts(inputs, gradients, [0]), alpha), tf.mul(sumOfProducts(inputs, gradients, [1]), beta)),
      // z_α by one forward pass (≥ 0 exactly), −z_β = z_α − z; the products with αW⁺ and βW⁻ (branches 2, 3).
      withParameters: {
        kind: 'basic',
        name,
        inputModifiers: [keepInput, keepInput, keepInput, keepInput],
        parameterModifiers: [positiveParameters, keepParameters, weightsOnly(positiveParameters, alpha), weightsOnly(negativeParameters, beta)],
        gradientOnly: [2, 3],
        gradientMapper: (relevance, [zAlpha, z]) => [
          null,
          null,
          divideByNonNegative(relevance, zAlpha, eps, false),
          divideByNonNegative(relevance, tf.sub(zAlpha, z), eps),
        ],
        reducer: (inputs, gradients) => tf.mul(inputs[2], addAll([gradients[2]!, gradients[3]!])),
      },
    },
  };
}

/** Options of {@link rules}.gamma. */
export interface GammaOptions extends StabilizerOptions {
  /** γ ≥ 0, the extra weight of same-sign contributions. Default 0.25. */
  gamma?: number;
}

/**
 * Generalised Gamma rule (Montavon et al. 2019; Zennit): `W^{+γ} = W + γW⁺`, `W^{−γ} = W + γW⁻`
 * (biases likewise). Where `z = Wx + b > 0`: `r₊ = R / s(W^{+γ}x⁺ + W^{−γ}x⁻ + b^{+γ})` and
 * `R_in = x⁺ ⊙ W^{+γ}ᵀ r₊ + x⁻ ⊙ W^{−γ}ᵀ r₊`; where `z < 0` the mirror image with `r₋ = R / s(W^{−γ}x⁺ +
 * W^{+γ}x⁻ + b^{−γ})`. For x ≥ 0 this is the classic γ-rule.
 *
 * Computed with two branches instead of Zennit's four: with `t = |W||x| + |b|`, `W⁺x⁺ + W⁻x⁻ + b⁺ =
 * (z + t)/2`, so the denominators are `(1 + γ/2)·z ± (γ/2)·t`; and since `W^{±γ} = (1 + γ/2)W ± (γ/2)|W|`,
 * `R_in = x ⊙ Wᵀ[(1 + γ/2)(r₊ + r₋)] + |x| ⊙ |W|ᵀ[(γ/2)(r₊ − r₋)]`: one modified forward pass and two
 * vector–Jacobian products. The same relevance (rounding aside: `z` and `t` carry the rounding of `z`,
 * which the denominators, at least `|z|` where used, are dominated by).
 */
function gamma(options: GammaOptions = {}): BasicRule {
  const g = options.gamma ?? 0.25;
  assertNumberInRange(g, 'gamma', { min: 0 });
  const eps = stabilizerOption(options);
  // With a = 1 + γ/2 and c = (γ/2)/a, the denominator used where z ≠ 0 is s(z^{±γ})/a = σ·D, σ = sign(z),
  // D = |z| + c·t + ε/a > 0 (its sign is that of z), and the two gradients a(r₊ + r₋) = σ·R/D and
  // (γ/2)(r₊ − r₋) = c·|σ|·R/D (both 0 where z = 0: no relevance).
  const a = 1 + g / 2;
  const c = g / 2 / a;
  /** The gradients from z and `scaledT` = c·t. */
  const gradients = (relevance: tf.Tensor, z: tf.Tensor, scaledT: tf.Tensor): tf.Tensor[] => {
    const d = addAll([tf.abs(z), scaledT], eps / a);
    // Only with ε = 0 can D vanish (z = t = 0), where σ = 0 takes the relevance away anyway.
    const q = tf.div(relevance, eps > 0 ? d : tf.where(tf.equal(z, 0), tf.onesLike(z), d));
    const sigma = signOf(z);
    return [tf.mul(q, sigma), tf.mul(q, tf.abs(sigma))];
  };
  const name = `gamma(${g})`;
  // On parameter-free steps t = f(|x|) is scaled here; on steps with parameters by the branch weights.
  const mapper: GradientMapper = (relevance, [z, t]) => {
    const [g0, g1] = gradients(relevance, z, tf.mul(t, c));
    return [g0, tf.mul(g1, c)];
  };
  const linearMapper: GradientMapper = (relevance, [z, scaledT]) => gradients(relevance, z, scaledT);
  const scaledAbsolute: ParameterModifier = (p) => tf.mul(tf.abs(p), c);
  /** `form` on steps with parameters: c·|W|, c·|b| in the second branch, so its output is c·t. */
  const withScaledT = (form: BasicRule): BasicRule => ({ ...form, parameterModifiers: [keepParameters, scaledAbsolute], gradientMapper: linearMapper });
  const signed: BasicRule = {
    kind: 'basic',
    name,
    inputModifiers: [keepInput, absoluteInput],
    parameterModifiers: [keepParameters, absoluteParameters],
    gradientMapper: mapper,
    reducer: (inputs, gradients) => sumOfProducts(inputs, gradients, [0, 1]),
  };
  // x ≥ 0: |x| = x.
  const nonNegative: BasicRule = {
    ...signed,
    inputModifiers: [keepInput, keepInput],
    reducer: (inputs, gradients) => tf.mul(inputs[0], addAll([gradients[0]!, gradients[1]!])),
  };
  return { ...signed, withParameters: withScaledT(signed), nonNegativeInput: { ...nonNegative, withParameters: withScaledT(nonNegative) } };
}

/** Flat rule (Lapuschkin et al. 2019): inputs and weights ones, bias 0: `R_in = 1ᵀ[R / s(n)]`, `n` the receptive-field size. */
function flat(options: StabilizerOptions = {}): BasicRule {
  const eps = stabilizerOption(options);
  return {
    kind: 'basic',
    name: 'flat',
    inputModifiers: [ones],
    parameterModifiers: [weightsOnly((p) => tf.onesLike(p))],
    gradientMapper: (relevance, [n]) => [divideStabilized(relevance, n, eps)],
    reducer: (_inputs, [gradient]) => gradient!,
  };
}

/** WSquare rule (Montavon et al. 2017): `R_in = (W²)ᵀ [R / s(W²·1 + b²)]`. */
function wSquare(options: StabilizerOptions = {}): BasicRule {
  const eps = stabilizerOption(options);
  return {
    kind: 'basic',
    name: 'wSquare',
    inputModifiers: [ones],
    parameterModifiers: [(p) => tf.square(p)],
    gradientMapper: (relevance, [z]) => [divideStabilized(relevance, z, eps)],
    reducer: (_inputs, [gradient]) => gradient!,
  };
}

/** A bound of {@link rules}.zBox: one number, one number per channel (last axis), or a broadcastable tensor. */
export type Bound = number | number[] | tf.Tensor;

/** Options of {@link rules}.zBox. */
export interface ZBoxOptions extends StabilizerOptions {
  /** Lowest input value (e.g. 0, or the normalised value of black per channel). */
  low: Bound;
  /** Highest input value. */
  high: Bound;
}

/**
 * ZBox rule (z^B, Montavon et al. 2017) for the input layer of bounded data `l ≤ x ≤ h`:
 * `r = R / s(Wx − W⁺l − W⁻h)` (the bias cancels), `R_in = x ⊙ Wᵀr − l ⊙ W⁺ᵀr − h ⊙ W⁻ᵀr`.
 * `low` and `high` broadcast against the input (per channel for arrays).
 */
function zBox(options: ZBoxOptions): BasicRule {
  if (options === null || typeof options !== 'object') {
    throw new GlassboxArgumentError('zBox options', `expected { low, high }, got ${describeValue(options)}`);
  }
  const low = boundModifier(options.low, 'low');
  const high = boundModifier(options.high, 'high');
  assertOrderedBounds(options.low, options.high);
  const eps = stabilizerOption(options);
  return {
    kind: 'basic',
    name: 'zBox',
    inputModifiers: [keepInput, low, high],
    parameterModifiers: [keepParameters, positiveParameters, negativeParameters],
    gradientMapper: (relevance, [z, zLow, zHigh]) => {
      const r = divideStabilized(relevance, tf.sub(tf.sub(z, zLow), zHigh), eps);
      return [r, r, r];
    },
    reducer: (inputs, gradients) =>
      tf.sub(sumOfProducts(inputs, gradients, [0]), sumOfProducts(inputs, gradients, [1, 2])),
  };
}

/** The input modifier that replaces an input by a bound broadcast to its shape. */
function boundModifier(bound: Bound, argument: string): InputModifier {
  if (typeof bound === 'number') {
    assertNumberInRange(bound, argument, {});
    return (input) => tf.fill(input.shape, bound, 'float32');
  }
  if (Array.isArray(bound)) {
    if (bound.length === 0) throw new GlassboxArgumentError(argument, 'expected one bound per channel, got an empty array');
    bound.forEach((b, i) => assertNumberInRange(b, `${argument}[${i}]`, {}));
    return (input) => {
      const channels = input.shape[input.rank - 1];
      if (channels !== bound.length) {
        throw new GlassboxArgumentError(argument, `expected one bound per channel (${channels}), got ${bound.length}`);
      }
      return tf.add(tf.zerosLike(input), tf.tensor1d(bound, 'float32'));
    };
  }
  if (bound instanceof tf.Tensor) {
    return (input) => {
      if (bound.isDisposed) throw new GlassboxArgumentError(argument, 'the tensor has already been disposed');
      try {
        tf.broadcast_util.assertAndGetBroadcastShape(input.shape, bound.shape);
      } catch {
        throw new GlassboxArgumentError(
          argument,
          `shape [${bound.shape.join(', ')}] does not broadcast against the layer input [${input.shape.join(', ')}]`,
        );
      }
      return tf.add(tf.zerosLike(input), tf.cast(bound, 'float32'));
    };
  }
  throw new GlassboxArgumentError(argument, `expected a number, an array (one per channel) or a tf.Tensor, got ${describeValue(bound)}`);
}

function assertOrderedBounds(low: Bound, high: Bound): void {
  const lows = typeof low === 'number' ? [low] : Array.isArray(low) ? low : null;
  const highs = typeof high === 'number' ? [high] : Array.isArray(high) ? high : null;
  if (lows === null || highs === null) return;
  const n = Math.max(lows.length, highs.length);
  for (let i = 0; i < n; i++) {
    const l = lows[lows.length === 1 ? 0 : i];
    const h = highs[highs.length === 1 ? 0 : i];
    if (l !== undefined && h !== undefined && l > h) {
      throw new GlassboxArgumentError('low', `expected low ≤ high, got low ${l} > high ${h}${n > 1 ? ` at channel ${i}` : ''}`);
    }
  }
}

/**
 * Pass rule: the relevance at the output is the relevance at the input (activations, BatchNorm). For
 * an input with fewer axes than the output (an Embedding's token ids `[N, T]` for vectors
 * `[N, T, D]`), the relevance is summed over the extra axes: a token gets the relevance of its vector.
 * Layers with several inputs need another rule (norm, signalTakeAll or gradient).
 */
function pass(): PassRule {
  return { kind: 'pass', name: 'pass' };
}

/** Plain gradient (winner-takes-all for max pooling; routing for reshapes, padding, concatenation). */
function gradient(): GradientDefinition {
  return { kind: 'gradient', name: 'gradient' };
}

/**
 * SignalTakeAll, for products `z = f(x₁, …, x_n)` that are linear in each input (element-wise products,
 * Dot, a batched MatMul of two computed tensors). Inputs marked as gates (a sigmoid's or softmax's
 * output, by the `'gates'` and `'attention'` canonizers, or the gates of LSTM and GRU cells) are held
 * constant and get no relevance; each of the `m` other inputs, the signals, gets its Epsilon share with
 * all other inputs held constant, divided by `m`:
 * `R_k = x_k ⊙ (∂z/∂x_k)ᵀ [R / s(z)] / m`.
 * With one signal this is Arras et al.'s (2017) signal-take-all rule for LSTMs (the signal gets all
 * relevance, the gate none); with several it is the uniform rule of Achtibat et al. (2024, AttnLRP) for
 * bilinear products (`R/2` each for `a·b`). Conservative: `Σ_k R_k = R` (up to ε) when `z` is linear in
 * each signal. When every input is marked as a gate, all count as signals.
 */
function signalTakeAll(options: StabilizerOptions = {}): ProductRule {
  return { kind: 'product', name: 'signalTakeAll', stabilizer: stabilizerOption(options) };
}

/**
 * The LRP rules. Give them to layers through a composite, e.g.
 * `composites.custom({ kinds: { conv: rules.gamma({ gamma: 0.5 }) } })` or
 * `lrp(model, x, { layerRules: { byName: { logits: rules.epsilon({ epsilon: 0.1 }) } } })`.
 */
export const rules = {
  /** Epsilon (LRP-ε; `epsilon: 0` is LRP-0), for Dense and convolutions. */
  epsilon,
  /** ZPlus (z⁺): positive contributions only, for convolutions of ReLU networks. */
  zPlus,
  /** AlphaBeta(α, β), α − β = 1 (default α = 2, β = 1): positive and negative contributions weighted apart. */
  alphaBeta,
  /** Generalised Gamma (default γ = 0.25): favours contributions of the output's sign. */
  gamma,
  /** Flat: relevance spread evenly over the receptive field (for the first layer). */
  flat,
  /** WSquare: relevance by squared weights, independent of the input (for the first layer). */
  wSquare,
  /** ZBox (z^B) for the input layer of data bounded by `low` and `high`. */
  zBox,
  /** Norm, for parameter-free linear steps (sums, average pooling, LayerNormalization). */
  norm,
  /** Pass: the output relevance goes to the input unchanged (activations, BatchNorm, embeddings). */
  pass,
  /** The plain gradient (max pooling, reshapes, concatenation). */
  gradient,
  /** SignalTakeAll, for products: gates get nothing, signals share the relevance. */
  signalTakeAll,
};
