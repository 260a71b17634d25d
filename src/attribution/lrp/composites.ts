/**
 * Composites: which rule each step of the LRP program gets (Zennit's composites, Anders et al. 2021;
 * the recommendations of Montavon et al. 2019 and Kohlbrenner et al. 2020). A composite is an ordered
 * list of `(matcher → rule)` entries and the first entry whose matcher accepts a layer gives its rule.
 * A matcher is a pattern over the layer's name, class, kind and first-layer position, or any predicate
 * over the layer's description ({@link LrpLayerInfo}).
 *
 * The named composites are built by {@link composites}.custom as: rules by name (`byName`), rules by
 * class (`byClass`), the layer's own rule (see `registerLrpLayer`; `EdgeFilterStem` has WSquare), the
 * first-layer rules (for the linear layers that see the input: no linear step before them), the rules
 * per kind, and the rules every composite shares: activations → Pass, BatchNorm and other element-wise
 * affine maps → Pass, LayerNormalization → Norm, sums → Norm, products → SignalTakeAll, (global)
 * average pooling → Norm, max pooling and concatenation and reshapes → the plain gradient, embeddings →
 * Pass. {@link registerComposite} makes a composite available by name in `lrp(..., { composite })`.
 * @module
 */
import { describeValue, GlassboxArgumentError, GlassboxModelError } from '../../core/errors';
import type * as tfl from '@tensorflow/tfjs-layers';
import { LAYER_KINDS, type LayerKind } from './layer-catalogue';
import type { LrpGraphNode } from './program';
import { isRule, rules, type Bound, type Rule } from './rules';

/** What a matcher sees of a step of the LRP program. */
export interface LrpLayerInfo {
  /** The layer's (or graph node's) name; non-linear parts of a layer are named `layer/part` (`dense/activation`). */
  readonly name: string;
  /** The layer class (`layer.getClassName()`) or graph op; fused activations match as `'Activation'`. */
  readonly className: string;
  /** The composite slot of the step (see {@link LayerKind}); `null` for a step no kind describes. */
  readonly kind: LayerKind | null;
  /** `layer/part` for the parts of a layer that takes several steps, else the name. */
  readonly label: string;
  /** A linear step with no linear step before it on any path from the input. */
  readonly first: boolean;
  /** Number of inputs of the step. */
  readonly inputs: number;
  /** The rule the layer's own description gives it, if any. */
  readonly ownRule?: Rule;
  /** The tfjs layer (LayersModels). */
  readonly layer?: tfl.layers.Layer;
  /** The graph node (GraphModels). */
  readonly node?: LrpGraphNode;
}

/**
 * A pattern every given field of which must match: `name` and `className` by equality, one of a list,
 * or a RegExp; `kind` equal to one of the kinds; `first` equal.
 */
export interface LayerPattern {
  /** Matches {@link LrpLayerInfo.name}: equal to the string, one of the list, or accepted by the RegExp. */
  name?: string | RegExp | readonly string[];
  /** Matches {@link LrpLayerInfo.className} (`'Conv2D'`, `'Dense'`, a graph op such as `'MatMul'`, ...), like `name`. */
  className?: string | RegExp | readonly string[];
  /** Matches a step whose kind is this one or one of these. */
  kind?: LayerKind | readonly LayerKind[];
  /** `true`: only linear steps with no linear step before them (see {@link LrpLayerInfo.first}); `false`: only the others. */
  first?: boolean;
}

/** Selects layers: a {@link LayerPattern} or a predicate over the layer's description. */
export type LayerMatcher = LayerPattern | ((layer: LrpLayerInfo) => boolean);

/** One entry of a composite: the rule for the layers `match` accepts (a rule, or a function of the layer giving one). */
export interface CompositeEntry {
  /** Which steps the entry applies to. */
  readonly match: LayerMatcher;
  /** The rule those steps get, or a function that picks it from the step's description. */
  readonly rule: Rule | ((layer: LrpLayerInfo) => Rule);
}

/** Which rule each layer gets: the first entry whose matcher accepts the layer. Build one with {@link composites}. */
export interface Composite {
  /** Shown in error messages (`'epsilon-plus-flat'`, `'custom'`, ...). */
  readonly name: string;
  /** The entries, tried in order; the first whose matcher accepts a step gives its rule. */
  readonly rules: readonly CompositeEntry[];
}

/** A rule per layer name and per layer class name (`layer.getClassName()`, or the graph op). */
export interface LayerRules {
  /** Rules by layer (or graph node) name, e.g. `{ logits: rules.epsilon({ epsilon: 0.25 }) }`; tried before `byClass`. */
  byName?: Readonly<Record<string, Rule>>;
  /** Rules by layer class or graph op, e.g. `{ Conv2D: rules.gamma() }`. */
  byClass?: Readonly<Record<string, Rule>>;
}

/** Options every named composite accepts. */
export interface CompositeOptions extends LayerRules {
  /** ε of the Epsilon rule (default 1e−6). */
  epsilon?: number;
}

/** Options of {@link composites}.epsilonGammaBox. */
export interface EpsilonGammaBoxOptions extends CompositeOptions {
  /** γ of the Gamma rule on convolutions (default 0.25). */
  gamma?: number;
  /** Lowest input value, for the ZBox rule on the first convolution. */
  low: Bound;
  /** Highest input value. */
  high: Bound;
}

/** The rules every composite shares, after its own; `dense`, `conv` and `custom` have none. */
function baseKinds(): Record<LayerKind, Rule | null> {
  return {
    dense: null,
    conv: null,
    activation: rules.pass(),
    batchnorm: rules.pass(),
    affine: rules.pass(),
    normalization: rules.norm(),
    add: rules.norm(),
    multiply: rules.signalTakeAll(),
    avgpool: rules.norm(),
    maxpool: rules.gradient(),
    concatenate: rules.gradient(),
    structural: rules.gradient(),
    embedding: rules.pass(),
    custom: null,
  };
}

/** Options of {@link composites}.custom. */
export interface CustomCompositeOptions extends LayerRules {
  /** The composite's name in error messages (default `'custom'`). */
  name?: string;
  /** Entries tried before all others (first match wins). */
  rules?: readonly CompositeEntry[];
  /** Rules per kind, on top of the shared defaults (activations → Pass, Add → Norm, ...). */
  kinds?: Partial<Record<LayerKind, Rule>>;
  /** Rules for the first linear layers (no linear step before them), by kind. */
  firstLayer?: Partial<Record<'dense' | 'conv', Rule>>;
}

/** The layer's own rule (from its description), ahead of first-layer and per-kind rules. */
const OWN_RULE: CompositeEntry = { match: (layer) => layer.ownRule !== undefined, rule: (layer) => layer.ownRule! };

/**
 * A composite from, in this order: `rules` (entries of your own), rules by layer name, rules by class,
 * the layers' own rules, first-layer rules, rules per kind and the shared defaults.
 */
function custom(options: CustomCompositeOptions = {}): Composite {
  assertObject(options, 'options');
  const kinds = baseKinds();
  for (const [kind, rule] of Object.entries(options.kinds ?? {})) {
    if (!LAYER_KINDS.includes(kind as LayerKind)) {
      throw new GlassboxArgumentError(
        'options.kinds',
        `unknown layer kind '${kind}'; expected one of ${LAYER_KINDS.map((k) => `'${k}'`).join(', ')}`,
      );
    }
    kinds[kind as LayerKind] = checkedRule(rule, `options.kinds.${kind}`);
  }
  const firstLayer: CompositeEntry[] = [];
  for (const [kind, rule] of Object.entries(options.firstLayer ?? {})) {
    if (kind !== 'dense' && kind !== 'conv') {
      throw new GlassboxArgumentError('options.firstLayer', `expected the keys 'dense' and/or 'conv', got '${kind}'`);
    }
    firstLayer.push({ match: { kind, first: true }, rule: checkedRule(rule, `options.firstLayer.${kind}`) });
  }
  const perKind = (Object.entries(kinds) as [LayerKind, Rule | null][])
    .filter((entry): entry is [LayerKind, Rule] => entry[1] !== null)
    .map(([kind, rule]): CompositeEntry => ({ match: { kind }, rule }));
  return {
    name: options.name ?? 'custom',
    rules: [
      ...checkedEntries(options.rules, 'options.rules'),
      ...layerRuleEntries(options, 'options'),
      OWN_RULE,
      ...firstLayer,
      ...perKind,
    ],
  };
}

/** `composite` with `entries` tried first (e.g. a rule for a few layers on top of a named composite). */
function extend(composite: Composite, entries: readonly CompositeEntry[], name = composite.name): Composite {
  if (!isComposite(composite)) throw new GlassboxArgumentError('composite', `expected a Composite, got ${describeValue(composite)}`);
  return { name, rules: [...checkedEntries(entries, 'entries'), ...composite.rules] };
}

function named(
  name: string,
  options: LayerRules,
  dense: Rule,
  conv: Rule,
  firstLayer: Partial<Record<'dense' | 'conv', Rule>> = {},
): Composite {
  return custom({ name, kinds: { dense, conv }, firstLayer, byName: options.byName, byClass: options.byClass });
}

const epsilonRule = (options: CompositeOptions): Rule => rules.epsilon({ epsilon: options.epsilon });
const alpha2Beta1 = (): Rule => rules.alphaBeta({ alpha: 2, beta: 1 });

function epsilon(options: CompositeOptions = {}): Composite {
  return named('epsilon', options, epsilonRule(options), epsilonRule(options));
}

function zPlus(options: LayerRules = {}): Composite {
  return named('zplus', options, rules.zPlus(), rules.zPlus());
}

function alpha2Beta1Composite(options: LayerRules = {}): Composite {
  return named('alpha2-beta1', options, alpha2Beta1(), alpha2Beta1());
}

function epsilonPlus(options: CompositeOptions = {}): Composite {
  return named('epsilon-plus', options, epsilonRule(options), rules.zPlus());
}

function epsilonAlpha2Beta1(options: CompositeOptions = {}): Composite {
  return named('epsilon-alpha2-beta1', options, epsilonRule(options), alpha2Beta1());
}

function epsilonPlusFlat(options: CompositeOptions = {}): Composite {
  return named('epsilon-plus-flat', options, epsilonRule(options), rules.zPlus(), { dense: rules.flat(), conv: rules.flat() });
}

function epsilonAlpha2Beta1Flat(options: CompositeOptions = {}): Composite {
  return named('epsilon-alpha2-beta1-flat', options, epsilonRule(options), alpha2Beta1(), {
    dense: rules.flat(),
    conv: rules.flat(),
  });
}

function epsilonGammaBox(options: EpsilonGammaBoxOptions): Composite {
  assertObject(options, 'options');
  if (options.low === undefined || options.high === undefined) {
    throw new GlassboxArgumentError(
      options.low === undefined ? 'options.low' : 'options.high',
      "the 'epsilon-gamma-box' composite needs the input's bounds low and high (numbers, one per channel, or tensors)",
    );
  }
  return named('epsilon-gamma-box', options, epsilonRule(options), rules.gamma({ gamma: options.gamma }), {
    conv: rules.zBox({ low: options.low, high: options.high }),
  });
}

/** Composite constructors; the named ones are also available by name (see {@link COMPOSITE_NAMES}). */
export const composites = {
  /** `'epsilon'`: Epsilon(ε) on every Dense and convolution. */
  epsilon,
  /** `'zplus'`: ZPlus on every Dense and convolution. */
  zPlus,
  /** `'alpha2-beta1'`: AlphaBeta(2, 1) on every Dense and convolution. */
  alpha2Beta1: alpha2Beta1Composite,
  /** `'epsilon-plus'`: ZPlus on convolutions, Epsilon(ε) on Dense layers. */
  epsilonPlus,
  /** `'epsilon-alpha2-beta1'`: AlphaBeta(2, 1) on convolutions, Epsilon(ε) on Dense layers. */
  epsilonAlpha2Beta1,
  /** `'epsilon-plus-flat'`: epsilon-plus with Flat on the first Dense or convolution. */
  epsilonPlusFlat,
  /** `'epsilon-alpha2-beta1-flat'`: epsilon-alpha2-beta1 with Flat on the first Dense or convolution. */
  epsilonAlpha2Beta1Flat,
  /** `'epsilon-gamma-box'`: Gamma(γ) on convolutions, Epsilon(ε) on Dense layers, ZBox(low, high) on the first convolution. */
  epsilonGammaBox,
  /** A composite of your own: entries, rules by name, class and kind, first-layer rules, on top of the shared defaults. */
  custom,
  /** A composite with entries of your own tried before its entries. */
  extend,
};

/** The named composites built in (more can be added with {@link registerComposite}). */
export const COMPOSITE_NAMES = [
  'epsilon',
  'zplus',
  'alpha2-beta1',
  'epsilon-plus',
  'epsilon-alpha2-beta1',
  'epsilon-plus-flat',
  'epsilon-alpha2-beta1-flat',
  'epsilon-gamma-box',
] as const;

/** A built-in named composite. */
export type CompositeName = (typeof COMPOSITE_NAMES)[number];

/** The settings `lrp` passes to a named composite from its options. */
export interface CompositeSettings {
  /** `lrp`'s `epsilon`: ε of the Epsilon rule. */
  epsilon?: number;
  /** `lrp`'s `gamma`: γ of the Gamma rule. */
  gamma?: number;
  /** `lrp`'s `low`: the lowest input value, for ZBox. */
  low?: Bound;
  /** `lrp`'s `high`: the highest input value, for ZBox. */
  high?: Bound;
}

/** Builds a named composite from `lrp`'s settings. */
export type CompositeFactory = (settings: CompositeSettings) => Composite;

/** Options of {@link registerComposite}. */
export interface RegisterCompositeOptions {
  /** The settings of `lrp`'s options the composite uses; giving any other is an error. Default none. */
  settings?: readonly (keyof CompositeSettings)[];
}

const SETTING_KEYS: readonly (keyof CompositeSettings)[] = ['epsilon', 'gamma', 'low', 'high'];
const registry = new Map<string, { factory: CompositeFactory; settings: readonly (keyof CompositeSettings)[] }>();

/**
 * Makes a composite available by name: `lrp(model, x, { composite: name, ...settings })` calls
 * `factory(settings)` with the settings the options give (`epsilon`, `gamma`, `low`, `high`; only
 * those listed in `options.settings` are accepted). Registering a name again replaces it.
 * @example
 * registerComposite('my-net', ({ epsilon }) =>
 *   composites.extend(composites.epsilonPlus({ epsilon }), [{ match: { name: /^head/ }, rule: rules.epsilon({ epsilon: 0.25 }) }]),
 *   { settings: ['epsilon'] });
 * const r = await lrp(model, x, { target: 0, composite: 'my-net', epsilon: 1e-3 });
 */
export function registerComposite(name: string, factory: CompositeFactory, options: RegisterCompositeOptions = {}): void {
  if (typeof name !== 'string' || name.length === 0) throw new GlassboxArgumentError('name', `expected a composite name, got ${describeValue(name)}`);
  if (typeof factory !== 'function') throw new GlassboxArgumentError('factory', `expected a function (settings) => Composite, got ${describeValue(factory)}`);
  assertObject(options, 'options');
  const settings = options.settings ?? [];
  if (!Array.isArray(settings) || settings.some((k) => !SETTING_KEYS.includes(k))) {
    throw new GlassboxArgumentError('options.settings', `expected a list of ${SETTING_KEYS.map((k) => `'${k}'`).join(', ')}, got ${describeValue(settings)}`);
  }
  registry.set(name, { factory, settings: [...settings] });
}

/**
 * The built-in named composites, looked up after the registry (so `registerComposite` can replace
 * them). A plain object rather than registration calls: declaring it has no side effect, so a bundle
 * that does not use LRP drops it.
 */
const BUILT_IN: Readonly<Record<CompositeName, { factory: CompositeFactory; settings: readonly (keyof CompositeSettings)[] }>> = {
  epsilon: { factory: ({ epsilon: eps }) => epsilon({ epsilon: eps }), settings: ['epsilon'] },
  zplus: { factory: () => zPlus(), settings: [] },
  'alpha2-beta1': { factory: () => alpha2Beta1Composite(), settings: [] },
  'epsilon-plus': { factory: ({ epsilon: eps }) => epsilonPlus({ epsilon: eps }), settings: ['epsilon'] },
  'epsilon-alpha2-beta1': { factory: ({ epsilon: eps }) => epsilonAlpha2Beta1({ epsilon: eps }), settings: ['epsilon'] },
  'epsilon-plus-flat': { factory: ({ epsilon: eps }) => epsilonPlusFlat({ epsilon: eps }), settings: ['epsilon'] },
  'epsilon-alpha2-beta1-flat': { factory: ({ epsilon: eps }) => epsilonAlpha2Beta1Flat({ epsilon: eps }), settings: ['epsilon'] },
  'epsilon-gamma-box': {
    factory: ({ epsilon: eps, gamma, low, high }) => epsilonGammaBox({ epsilon: eps, gamma, low: low!, high: high! }),
    settings: ['epsilon', 'gamma', 'low', 'high'],
  },
};

/** The composite registered (or built in) under `name`. */
function namedComposite(name: string): { factory: CompositeFactory; settings: readonly (keyof CompositeSettings)[] } | undefined {
  return registry.get(name) ?? (Object.prototype.hasOwnProperty.call(BUILT_IN, name) ? BUILT_IN[name as CompositeName] : undefined);
}

function knownNames(): string {
  return [...new Set([...Object.keys(BUILT_IN), ...registry.keys()])].map((n) => `'${n}'`).join(', ');
}

/**
 * Resolves `lrp`'s `composite` option (a registered name or a {@link Composite}) with its settings.
 * Settings a composite does not use are an error, so a typo'd option cannot silently do nothing.
 */
export function resolveComposite(composite: unknown, settings: CompositeSettings): Composite {
  const given = SETTING_KEYS.filter((k) => settings[k] !== undefined);
  if (typeof composite === 'string') {
    const entry = namedComposite(composite);
    if (!entry) {
      throw new GlassboxArgumentError('options.composite', `expected one of ${knownNames()} (or a name given to registerComposite) or a Composite, got ${describeValue(composite)}`);
    }
    const unused = given.find((k) => !entry.settings.includes(k));
    if (unused) throw new GlassboxArgumentError(`options.${unused}`, `the '${composite}' composite does not use it`);
    const built = entry.factory(settings);
    if (!isComposite(built)) {
      throw new GlassboxModelError(`the factory registered for composite '${composite}' returned ${describeValue(built)}, not a Composite`);
    }
    return built;
  }
  if (!isComposite(composite)) {
    throw new GlassboxArgumentError(
      'options.composite',
      `expected one of ${knownNames()} or a Composite (see composites.*), got ${describeValue(composite)}`,
    );
  }
  if (given.length > 0) {
    throw new GlassboxArgumentError(
      `options.${given[0]}`,
      'applies to named composites only; pass it to the composite constructor instead (e.g. composites.epsilonPlus({ epsilon }))',
    );
  }
  checkedEntries(composite.rules, 'options.composite.rules');
  return composite;
}

/** `composite` with `layerRules` (rules by name or class, or entries) tried before its own. */
export function withLayerRules(composite: Composite, layerRules: LayerRules | readonly CompositeEntry[] | undefined): Composite {
  if (layerRules === undefined) return composite;
  const entries = isEntryList(layerRules)
    ? checkedEntries(layerRules, 'options.layerRules')
    : layerRuleEntries(checkedObject(layerRules, 'options.layerRules'), 'options.layerRules');
  return { name: composite.name, rules: [...entries, ...composite.rules] };
}

/** The rule `composite` gives a layer (the first matching entry's), or `null` if no entry matches. */
export function ruleFor(composite: Composite, layer: LrpLayerInfo): Rule | null {
  for (const entry of composite.rules) {
    if (!matches(entry.match, layer)) continue;
    const rule = typeof entry.rule === 'function' ? entry.rule(layer) : entry.rule;
    if (!isRule(rule)) {
      throw new GlassboxArgumentError(`composite '${composite.name}'`, `an entry gave layer "${layer.label}" ${describeValue(rule)}, not a rule`);
    }
    return rule;
  }
  return null;
}

/** Does `matcher` accept `layer`? */
export function matches(matcher: LayerMatcher, layer: LrpLayerInfo): boolean {
  if (typeof matcher === 'function') return matcher(layer);
  const text = (pattern: string | RegExp | readonly string[] | undefined, value: string): boolean =>
    pattern === undefined || (typeof pattern === 'string' ? pattern === value : pattern instanceof RegExp ? pattern.test(value) : pattern.includes(value));
  const { name, className, kind, first } = matcher;
  return (
    text(name, layer.name) &&
    text(className, layer.className) &&
    (kind === undefined || (layer.kind !== null && (typeof kind === 'string' ? kind === layer.kind : kind.includes(layer.kind)))) &&
    (first === undefined || first === layer.first)
  );
}

function layerRuleEntries(options: LayerRules, argument: string): CompositeEntry[] {
  const byName = checkedRuleMap(options.byName, `${argument}.byName`);
  const byClass = checkedRuleMap(options.byClass, `${argument}.byClass`);
  return [
    ...Object.entries(byName).map(([name, rule]): CompositeEntry => ({ match: { name }, rule })),
    ...Object.entries(byClass).map(([className, rule]): CompositeEntry => ({ match: { className }, rule })),
  ];
}

function isEntryList(value: LayerRules | readonly CompositeEntry[]): value is readonly CompositeEntry[] {
  return Array.isArray(value);
}

function isComposite(value: unknown): value is Composite {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Partial<Composite>;
  return typeof c.name === 'string' && Array.isArray(c.rules);
}

function checkedEntries(entries: unknown, argument: string): CompositeEntry[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) throw new GlassboxArgumentError(argument, `expected an array of { match, rule } entries, got ${describeValue(entries)}`);
  return entries.map((entry: unknown, i) => {
    const e = entry as Partial<CompositeEntry> | null;
    const matcherOk = e !== null && typeof e === 'object' && (typeof e.match === 'function' || (e.match !== null && typeof e.match === 'object'));
    if (!matcherOk) throw new GlassboxArgumentError(`${argument}[${i}].match`, `expected a pattern { name?, className?, kind?, first? } or a predicate, got ${describeValue(e?.match)}`);
    if (typeof e.rule !== 'function' && !isRule(e.rule)) {
      throw new GlassboxArgumentError(`${argument}[${i}].rule`, `expected a rule (see rules.*) or a function of the layer giving one, got ${describeValue(e.rule)}`);
    }
    return e as CompositeEntry;
  });
}

function checkedRule(rule: unknown, argument: string): Rule {
  if (!isRule(rule)) throw new GlassboxArgumentError(argument, `expected a rule (see rules.*), got ${describeValue(rule)}`);
  return rule;
}

function checkedRuleMap(map: unknown, argument: string): Record<string, Rule> {
  if (map === undefined) return {};
  assertObject(map, argument);
  return Object.fromEntries(Object.entries(map).map(([key, rule]) => [key, checkedRule(rule, `${argument}.${key}`)]));
}

function checkedObject<T>(value: T, argument: string): T {
  assertObject(value, argument);
  return value;
}

function assertObject(value: unknown, argument: string): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GlassboxArgumentError(argument, `expected an object, got ${describeValue(value)}`);
  }
}
